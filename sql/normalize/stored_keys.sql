-- Which keys of raw_keys.sql (registered as normalize_keys) the store holds already: those spans are
-- duplicates, not stored again (select_new_spans.sql reads the result as normalize_stored).
SELECT keys.trace_id, keys.span_id
FROM normalize_keys AS keys
WHERE EXISTS (SELECT 1 FROM spans WHERE spans.trace_id = keys.trace_id AND spans.span_id = keys.span_id);
