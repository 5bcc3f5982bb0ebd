-- Latency per subject (model calls, tools, retrievers, ...): percentiles and total time, the 25
-- subjects with the most total time first. Wrapper spans (agent, chain) are left out.
-- The percentiles are over every finished span; halo_h_subjects has them for subjects without
-- negative durations (its latency baselines leave those out), the others are computed here.
SELECT *
FROM (
    SELECT
        span_type,
        subject,
        finished_calls                             AS spans,
        round(timed_quantiles[1], 3)               AS p50_ms,
        round(timed_quantiles[2], 3)               AS p95_ms,
        round(timed_quantiles[3], 3)               AS p99_ms,
        round(max_ms, 3)                           AS max_ms,
        round(total_ms / 1000.0, 3)                AS total_seconds
    FROM halo_h_subjects
    WHERE finished_calls > 0 AND negative_calls = 0 AND span_type NOT IN ('agent', 'chain')
    UNION ALL
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
      AND (span_type, subject) IN (SELECT (span_type, subject) FROM halo_h_subjects WHERE negative_calls > 0)
    GROUP BY span_type, subject
)
ORDER BY total_seconds DESC, span_type, subject
LIMIT 25
