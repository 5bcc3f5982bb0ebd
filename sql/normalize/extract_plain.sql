{% import 'normalize/extract_shape.sql' as shape -%}
-- attribute_map applied in one pass to the spans of TEMP VIEW normalize_input that have neither
-- indexed keys nor events (nearly all of them): one row per span_key, like extract_fields.sql.
-- A Jinja template (extract_shape.sql): from attribute_map, normalize.py passes each canonical column
-- with its candidates in priority order (the transforms of extract_fields.sql, same macros), rendered as
-- a coalesce, and what leaves a span to extract_fields.sql instead (needs_generic).
-- $text_paths holds the JSON path of every attribute key the map names: one parse of the attributes
-- per span extracts them all as text (json_extract_string is norm_text but for ''), attribute_texts[n];
-- $json_paths those of the keys whose transform reads JSON (arrays, objects), attribute_values[n]; with no
-- such key present (json_values false) the attributes are not parsed a second time (~0.5 CPU-s at 1M spans).
CREATE OR REPLACE TEMP TABLE normalize_fields AS
WITH located AS (
    SELECT
        span_key,
        name AS name_text,
        to_json(name) AS name_value,
        CASE WHEN status_code = 'error' THEN status_message END AS status_message_text,
        CASE WHEN status_code = 'error' THEN to_json(status_message) END AS status_message_value,
        json_extract_string(attributes, CAST($text_paths AS VARCHAR[])) AS attribute_texts,
        {% if json_values %}json_extract(attributes, CAST($json_paths AS VARCHAR[])){% else %}CAST(NULL AS JSON[]){% endif %} AS attribute_values
    FROM normalize_input
    WHERE NOT ({{ shape.needs_generic(events, prefix_parameters) }})
),
lookup AS (
    SELECT map_from_entries(list({'key': attribute_key || chr(31) || value, 'value': span_type})) AS span_types
    FROM span_type_values
)
SELECT
    span_key{% for column in columns %},
    CAST({% if column.candidates %}coalesce({% for rule in column.candidates %}{{ shape.candidate(rule) }}{{ ", " if not loop.last }}{% endfor %}){% else %}NULL{% endif %} AS {{ column.type }}) AS {{ column.field }}
{%- endfor %}
FROM located, lookup;
