-- New spans with their canonical columns. The columns that need the whole trace (agent, counts_usage,
-- computed cost) are filled by derive_trace_columns; a cost given on the span is kept here.
INSERT INTO spans (
    trace_id, span_id, parent_span_id, name, kind, start_ns, end_ns, start_time, end_time, duration_ms,
    status_code, status_message, service_name, agent_name, agent_uuid, session_id, span_type, provider,
    model, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, counts_usage, cost_usd,
    cost_source, tool_name, tool_arguments, tool_result, declared_tools, finish_reason, error_type,
    error_message, input_text, output_text, scope_name, scope_version, attributes, resource_attributes,
    events, links, source_file, source_line
)
WITH typed AS (
    SELECT
        new.span_key,
        raw.*,
        fields.* EXCLUDE (span_key, span_type, model),
        -- Vertex AI model resource names keep only the model id.
        regexp_replace(fields.model, '^projects/[^/]+/locations/[^/]+/publishers/[^/]+/models/', '') AS model,
        coalesce(fields.span_type, CASE WHEN fields.model IS NOT NULL THEN 'llm' ELSE 'other' END) AS span_type
    FROM normalize_new AS new
    JOIN raw_spans AS raw ON raw.rowid = new.raw_row
    JOIN normalize_fields AS fields USING (span_key)
)
SELECT
    typed.trace_id,
    typed.span_id,
    typed.parent_span_id,
    coalesce(typed.name, ''),
    coalesce(typed.kind, 'unspecified'),
    typed.start_ns,
    typed.end_ns,
    make_timestamp(typed.start_ns // 1000),
    make_timestamp(typed.end_ns // 1000),
    (typed.end_ns - typed.start_ns) / 1e6,
    CASE WHEN upper(typed.langfuse_level) = 'ERROR' THEN 'error' ELSE coalesce(typed.status_code, 'unset') END,
    nullif(typed.status_message, ''),
    nullif(typed.resource_attributes ->> '$."service.name"', ''),
    NULL,
    NULL,
    typed.session_id,
    typed.span_type,
    coalesce(alias.provider, matched.provider, lower(typed.provider_raw)),
    typed.model,
    typed.input_tokens,
    typed.output_tokens,
    typed.cache_read_tokens,
    typed.cache_write_tokens,
    TRUE,
    typed.cost_usd,
    CASE WHEN typed.cost_usd IS NOT NULL THEN 'span' END,
    CASE WHEN typed.span_type = 'tool' THEN typed.tool_name END,
    CASE WHEN typed.span_type = 'tool' THEN typed.tool_arguments END,
    CASE WHEN typed.span_type = 'tool' THEN typed.tool_result END,
    typed.declared_tools,
    lower(typed.finish_reason),
    typed.error_type,
    typed.error_message,
    typed.input_text,
    typed.output_text,
    typed.scope_name,
    typed.scope_version,
    typed.attributes,
    typed.resource_attributes,
    typed.events,
    typed.links,
    $source_file,
    typed.source_line
FROM typed
LEFT JOIN provider_aliases AS alias ON alias.raw_name = lower(typed.provider_raw)
LEFT JOIN normalize_providers AS matched ON matched.raw_name = lower(typed.provider_raw)
ORDER BY typed.span_key;
