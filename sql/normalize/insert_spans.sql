-- Store the rows of normalized_rows.sql (registered as normalize_rows on the store's connection, read once),
-- each with its secret verdict (spans/_redaction.sql), made here on the store writer's thread.
{% from "spans/_redaction.sql" import with_secret_verdict -%}
INSERT INTO spans (
    trace_id, span_id, parent_span_id, name, kind, start_ns, end_ns, start_time, end_time, duration_ms,
    status_code, status_message, service_name, agent_name, agent_uuid, session_id, span_type, provider,
    model, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, counts_usage, cost_usd,
    cost_source, tool_name, tool_arguments, tool_result, declared_tools, finish_reason, error_type,
    error_message, input_text, output_text, scope_name, scope_version, attributes, resource_attributes,
    events, links, source_file, source_line, secret_free_under_rules
)
{{ with_secret_verdict("normalize_rows") }};
