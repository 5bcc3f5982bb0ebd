-- The top-level attribute keys that the spans of normalize_input hold: the plain extraction is rendered
-- for these alone (normalize.py, present_keys_only).
SELECT DISTINCT unnest(json_keys(attributes)) AS attribute_key FROM normalize_input;
