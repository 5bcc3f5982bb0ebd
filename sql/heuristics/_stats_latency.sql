-- Latency per subject (model calls, tools, retrievers, ...): percentiles and total time, the 25
-- subjects with the most total time first. Wrapper spans (agent, chain) are left out.
SELECT
    span_type,
    subject,
    count(*)                                   AS spans,
    round(quantile_cont(duration_ms, 0.50), 3) AS p50_ms,
    round(quantile_cont(duration_ms, 0.95), 3) AS p95_ms,
    round(quantile_cont(duration_ms, 0.99), 3) AS p99_ms,
    round(max(duration_ms), 3)                 AS max_ms,
    round(sum(duration_ms) / 1000.0, 3)        AS total_seconds
FROM halo_h_spans
WHERE duration_ms IS NOT NULL AND span_type NOT IN ('agent', 'chain')
GROUP BY span_type, subject
ORDER BY total_seconds DESC, span_type, subject
LIMIT 25
