-- Which traces of raw_keys.sql (registered as normalize_keys) the store holds a span of already: their
-- derived columns are left to derive_trace_columns (derive_fresh.sql reads the result as
-- normalize_stored_traces).
SELECT DISTINCT keys.trace_id
FROM normalize_keys AS keys
WHERE EXISTS (SELECT 1 FROM spans WHERE spans.trace_id = keys.trace_id);
