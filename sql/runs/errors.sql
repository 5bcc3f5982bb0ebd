-- The report's errors section: failing spans grouped by what failed and how, most frequent first.
SELECT
    coalesce(tool_name, name)                                        AS subject,
    span_type,
    coalesce(error_type, '')                                         AS error_type,
    left(coalesce(error_message, status_message, ''), 200)           AS message,
    count(*)                                                         AS spans,
    count(DISTINCT trace_id)                                         AS traces,
    arg_min(trace_id, (start_ns, trace_id, span_id))                 AS example_trace_id,
    arg_min(span_id, (start_ns, trace_id, span_id))                  AS example_span_id
FROM window_spans
WHERE status_code = 'error'
GROUP BY ALL
ORDER BY spans DESC, subject, error_type, message
LIMIT $row_limit;
