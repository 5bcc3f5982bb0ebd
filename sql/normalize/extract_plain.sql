-- attribute_map applied in one pass to the spans of TEMP VIEW normalize_input that have neither
-- indexed keys nor events (nearly all of them): one row per span_key, like extract_fields.sql.
-- normalize.py generates the parts marked /*...*/ from attribute_map: each canonical column is a
-- coalesce over its candidates in priority order (the transforms of extract_fields.sql, same
-- macros), and /*needs_generic*/ is the test that leaves a span to extract_fields.sql instead.
-- $text_paths holds the JSON path of every attribute key the map names: one parse of the attributes
-- per span extracts them all as text (json_extract_string is norm_text but for ''), attribute_texts[n];
-- $json_paths those of the keys whose transform reads JSON (arrays, objects), attribute_values[n].
CREATE OR REPLACE TEMP TABLE normalize_fields AS
WITH located AS (
    SELECT
        span_key,
        name AS name_text,
        to_json(name) AS name_value,
        CASE WHEN status_code = 'error' THEN status_message END AS status_message_text,
        CASE WHEN status_code = 'error' THEN to_json(status_message) END AS status_message_value,
        json_extract_string(attributes, CAST($text_paths AS VARCHAR[])) AS attribute_texts,
        json_extract(attributes, CAST($json_paths AS VARCHAR[])) AS attribute_values
    FROM normalize_input
    WHERE NOT (/*needs_generic*/)
),
lookup AS (
    SELECT map_from_entries(list({'key': attribute_key || chr(31) || value, 'value': span_type})) AS span_types
    FROM span_type_values
)
SELECT
    span_key,
    /*fields*/
FROM located, lookup;
