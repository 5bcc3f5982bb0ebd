-- One row per trace that started within [$since, $until), optionally touching $agent_uuid.
-- Usage sums count each token once (counts_usage), as the CLI's trace list does.
WITH chosen AS (
    SELECT trace_id
    FROM spans
    WHERE ($agent_uuid IS NULL OR agent_uuid = $agent_uuid)
    GROUP BY trace_id
    HAVING ($since IS NULL OR min(start_time) >= $since)
       AND ($until IS NULL OR min(start_time) < $until)
)
SELECT
    s.trace_id,
    min(s.start_time)                                                     AS start_time,
    (max(s.end_ns) - min(s.start_ns)) / 1e6                               AS duration_ms,
    count(*)                                                              AS span_count,
    count(*) FILTER (WHERE s.status_code = 'error')                       AS error_count,
    count(*) FILTER (WHERE s.span_type = 'llm')                           AS llm_calls,
    count(*) FILTER (WHERE s.span_type = 'tool')                          AS tool_calls,
    sum(s.input_tokens) FILTER (WHERE s.counts_usage)                     AS input_tokens,
    sum(s.output_tokens) FILTER (WHERE s.counts_usage)                    AS output_tokens,
    sum(s.cost_usd) FILTER (WHERE s.counts_usage)                         AS cost_usd,
    arg_min(s.agent_name, s.start_ns)                                     AS agent_name,
    arg_min(s.agent_uuid, s.start_ns)                                     AS agent_uuid,
    arg_min(s.service_name, s.start_ns)                                   AS service_name
FROM spans s
JOIN chosen USING (trace_id)
GROUP BY s.trace_id
ORDER BY start_time, s.trace_id;
