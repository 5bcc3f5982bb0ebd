-- One row per trace that started within [$since, $until), optionally touching $agent_uuid.
-- The measures are the CLI's trace list's (spans/_trace_measures.sql).
{% from "spans/_trace_measures.sql" import trace_extent, trace_usage -%}
WITH chosen AS (
    SELECT trace_id
    FROM spans
    WHERE ($agent_uuid IS NULL OR agent_uuid = $agent_uuid)
    GROUP BY trace_id
    HAVING ($since IS NULL OR min(start_time) >= $since)
       AND ($until IS NULL OR min(start_time) < $until)
)
SELECT
    {{ trace_extent() | indent(4) }}
    count(*) FILTER (WHERE s.span_type = 'llm')                              AS llm_calls,
    count(*) FILTER (WHERE s.span_type = 'tool')                             AS tool_calls,
    {{ trace_usage() | indent(4) }}
    arg_min(s.agent_name, s.start_ns)                                        AS agent_name,
    arg_min(s.agent_uuid, s.start_ns)                                        AS agent_uuid,
    arg_min(s.service_name, s.start_ns)                                      AS service_name
FROM spans s
JOIN chosen USING (trace_id)
GROUP BY s.trace_id
ORDER BY start_time, s.trace_id;
