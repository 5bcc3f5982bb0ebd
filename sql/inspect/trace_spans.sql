-- Every span of one trace, canonical columns, in start order (the tree is built by the caller).
SELECT
    trace_id, span_id, parent_span_id, name, kind, span_type, start_time, end_time, duration_ms,
    status_code, status_message, agent_name, agent_uuid, service_name, provider, model,
    input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, counts_usage, cost_usd,
    cost_source, tool_name, tool_arguments, tool_result, finish_reason, error_type, error_message
FROM spans
WHERE trace_id = $trace_id
ORDER BY start_ns, span_id;
