-- Spans matching the filters (each NULL filter is off), newest first.
SELECT
    trace_id, span_id, parent_span_id, name, span_type, start_time, duration_ms, status_code,
    agent_name, model, input_tokens, output_tokens, cost_usd, tool_name, error_type, error_message
FROM spans
WHERE ($since IS NULL OR start_time >= $since)
  AND ($trace_id IS NULL OR trace_id = $trace_id)
  AND ($agent_uuid IS NULL OR agent_uuid = $agent_uuid)
  AND ($span_type IS NULL OR span_type = $span_type)
  AND ($name IS NULL OR name ILIKE '%' || $name || '%' OR tool_name ILIKE '%' || $name || '%')
  AND (NOT $errors_only OR status_code = 'error')
ORDER BY start_ns DESC, span_id
LIMIT $row_limit;
