-- The one-pass loader's raw_spans also carries the JSON columns' half of each span's secret verdict,
-- made on the parser thread (halo_local/ingest/secret_check.py; normalize/normalized_rows.sql reads it).
ALTER TABLE raw_spans ADD COLUMN json_secret_free BOOLEAN;
