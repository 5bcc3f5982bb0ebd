-- Which keys of raw_keys.sql (registered as normalize_keys) an earlier part of this file stored: with
-- stored_keys.sql's (the store as committed before the file), what select_new_spans.sql leaves out.
SELECT keys.trace_id, keys.span_id
FROM normalize_keys AS keys
WHERE EXISTS (
    SELECT 1 FROM normalize_file_keys AS earlier
    WHERE earlier.trace_id = keys.trace_id AND earlier.span_id = keys.span_id
);
