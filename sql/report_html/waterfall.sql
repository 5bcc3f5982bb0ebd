-- report.html's waterfall of one trace: each span's start offset from the trace's first span, its
-- duration, type and status, in start order (the earliest $span_limit spans).
SELECT
    span_id,
    parent_span_id,
    name,
    span_type,
    status_code,
    left(coalesce(error_message, status_message, ''), 300)                  AS error_message,
    (start_ns - min(start_ns) OVER ()) / 1e6                                AS offset_ms,
    coalesce(duration_ms, 0)                                                AS duration_ms,
    count(*) OVER ()                                                        AS trace_spans
FROM window_spans
WHERE trace_id = $trace_id
ORDER BY start_ns, span_id
LIMIT $span_limit;
