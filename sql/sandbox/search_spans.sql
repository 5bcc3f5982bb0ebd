-- Spans whose text contains $needle (case-insensitive), each once with the first field that
-- matched and a snippet around the match; earliest spans first.
WITH fields AS (
    SELECT
        trace_id, span_id, name, span_type, status_code, agent_name, start_ns,
        unnest([
            {'field': 'name', 'rank': 1, 'value': name},
            {'field': 'error_message', 'rank': 2, 'value': error_message},
            {'field': 'status_message', 'rank': 3, 'value': status_message},
            {'field': 'tool_name', 'rank': 4, 'value': tool_name},
            {'field': 'tool_arguments', 'rank': 5, 'value': tool_arguments},
            {'field': 'tool_result', 'rank': 6, 'value': tool_result},
            {'field': 'input_text', 'rank': 7, 'value': input_text},
            {'field': 'output_text', 'rank': 8, 'value': output_text},
            {'field': 'model', 'rank': 9, 'value': model},
            {'field': 'attributes', 'rank': 10, 'value': CAST(attributes AS VARCHAR)},
            {'field': 'events', 'rank': 11, 'value': CAST(events AS VARCHAR)}
        ]) AS field
    FROM spans
),
matches AS (
    SELECT *, strpos(lower(field.value), lower($needle)) AS position
    FROM fields
    WHERE field.value IS NOT NULL AND strpos(lower(field.value), lower($needle)) > 0
)
SELECT
    trace_id, span_id, name, span_type, status_code, agent_name,
    field.field AS matched_field,
    substring(field.value, greatest(position - 80, 1), length($needle) + 160) AS snippet
FROM matches
QUALIFY row_number() OVER (PARTITION BY trace_id, span_id ORDER BY field.rank) = 1
ORDER BY start_ns, trace_id, span_id
LIMIT $row_limit;
