-- One row per trace started since $since, newest first; optionally only traces touching
-- $agent_uuid and only traces with an error span.
{% from "spans/_trace_measures.sql" import trace_extent, trace_usage -%}
WITH chosen AS (
    SELECT trace_id
    FROM spans
    WHERE ($since IS NULL OR start_time >= $since)
      AND ($agent_uuid IS NULL OR agent_uuid = $agent_uuid)
    GROUP BY trace_id
),
per_trace AS (
    SELECT
        {{ trace_extent() | indent(8) }}
        {{ trace_usage() | indent(8) }}
        count(*) FILTER (WHERE s.counts_usage AND s.cost_source = 'unpriced')    AS unpriced_spans,
        arg_min(s.name, s.start_ns) FILTER (WHERE s.parent_span_id IS NULL
            OR s.parent_span_id NOT IN (SELECT span_id FROM spans p WHERE p.trace_id = s.trace_id)) AS root_name,
        arg_min(s.agent_name, s.start_ns)                                        AS agent_name,
        arg_min(s.agent_uuid, s.start_ns)                                        AS agent_uuid
    FROM spans s
    JOIN chosen USING (trace_id)
    GROUP BY s.trace_id
)
SELECT *
FROM per_trace
WHERE NOT $errors_only OR error_count > 0
ORDER BY start_time DESC, trace_id
LIMIT $row_limit;
