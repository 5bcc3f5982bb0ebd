-- The distinct span keys of raw_spans, to be looked up in the store (stored_keys.sql).
SELECT DISTINCT trace_id, span_id FROM raw_spans;
