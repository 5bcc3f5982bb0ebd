-- Which traces of raw_keys.sql (registered as normalize_keys) an earlier part of this file stored a span
-- of: with stored_traces.sql's, the traces derive_fresh.sql leaves to derive_trace_columns.
SELECT DISTINCT keys.trace_id
FROM normalize_keys AS keys
WHERE EXISTS (SELECT 1 FROM normalize_file_keys AS earlier WHERE earlier.trace_id = keys.trace_id);
