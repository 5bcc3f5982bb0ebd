-- The report's latency section: where the agent's wall time goes, per span name and type. BeeAI's
-- per-instance counter (agent.react.update-12) is cut from the name, as halo_h_subject does.
SELECT
    CASE WHEN contains(lower(coalesce(scope_name, '')), 'beeai') THEN regexp_replace(name, '-[0-9]+$', '')
         ELSE name END                     AS subject,
    span_type,
    count(*)                               AS spans,
    quantile_cont(duration_ms, 0.5)        AS p50_ms,
    quantile_cont(duration_ms, 0.95)       AS p95_ms,
    max(duration_ms)                       AS max_ms,
    sum(duration_ms) / 1000.0              AS total_seconds,
    arg_max(trace_id, (duration_ms, trace_id, span_id)) AS slowest_trace_id,
    arg_max(span_id, (duration_ms, trace_id, span_id))  AS slowest_span_id
FROM window_spans
WHERE duration_ms IS NOT NULL
GROUP BY ALL
ORDER BY total_seconds DESC, subject, span_type
LIMIT $row_limit;
