-- One row per trace started since $since, newest first; optionally only traces touching
-- $agent_uuid and only traces with an error span. Usage sums count each token once (counts_usage).
WITH chosen AS (
    SELECT trace_id
    FROM spans
    WHERE ($since IS NULL OR start_time >= $since)
      AND ($agent_uuid IS NULL OR agent_uuid = $agent_uuid)
    GROUP BY trace_id
),
per_trace AS (
    SELECT
        s.trace_id,
        min(s.start_time)                                                        AS start_time,
        (max(s.end_ns) - min(s.start_ns)) / 1e6                                  AS duration_ms,
        count(*)                                                                 AS span_count,
        count(*) FILTER (WHERE s.status_code = 'error')                          AS error_count,
        sum(s.input_tokens) FILTER (WHERE s.counts_usage)                        AS input_tokens,
        sum(s.output_tokens) FILTER (WHERE s.counts_usage)                       AS output_tokens,
        sum(s.cost_usd) FILTER (WHERE s.counts_usage)                            AS cost_usd,
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
