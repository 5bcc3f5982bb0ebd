-- Every span of one trace with what the tree view shows, in start order (the tree is built in Python).
SELECT
    span_id, parent_span_id, name, span_type, status_code, status_message, start_time, duration_ms,
    agent_name, model, input_tokens, output_tokens, cache_read_tokens, cost_usd, tool_name,
    finish_reason, error_type, error_message
FROM spans
WHERE trace_id = $trace_id
ORDER BY start_ns, span_id;
