-- The report's tool-use section: each tool's calls, failures and latency.
SELECT
    coalesce(tool_name, name)                              AS tool,
    count(*)                                               AS calls,
    count(DISTINCT trace_id)                               AS traces,
    count(*) FILTER (WHERE status_code = 'error')          AS errors,
    quantile_cont(duration_ms, 0.5)                        AS p50_ms,
    quantile_cont(duration_ms, 0.95)                       AS p95_ms
FROM window_spans
WHERE span_type = 'tool'
GROUP BY ALL
ORDER BY calls DESC, tool
LIMIT $row_limit;
