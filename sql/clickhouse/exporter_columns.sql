-- The columns of the source table, to check it has the OpenTelemetry Collector exporter's schema
-- before anything else is asked of it.
SELECT name, type
FROM system.columns
WHERE database = {database:String} AND table = {table:String}
ORDER BY position
