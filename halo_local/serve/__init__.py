"""The OTLP/HTTP receiver behind `halo-local serve`: request checks, a durable spool, an ingester."""
