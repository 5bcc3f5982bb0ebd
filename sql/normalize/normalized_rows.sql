-- New spans (normalize_new of this chunk) with their canonical columns, in the column order of
-- insert_spans.sql, plus the agent-name fields that derive_trace_columns reads. The columns that need
-- the whole trace (agent, counts_usage, computed cost) are filled by derive_trace_columns; a cost given
-- on the span is kept here. Runs where raw_spans is; insert_spans.sql stores the result. source_line
-- tells the files of raw_spans apart: file i ($source_files[i + 1]) holds source_line // $stride = i.
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
    WHERE new.span_key BETWEEN getvariable('normalize_chunk_first') AND getvariable('normalize_chunk_last')
)
SELECT
    typed.trace_id,
    typed.span_id,
    typed.parent_span_id,
    coalesce(typed.name, '') AS name,
    coalesce(typed.kind, 'unspecified') AS kind,
    typed.start_ns,
    typed.end_ns,
    make_timestamp(typed.start_ns // 1000) AS start_time,
    make_timestamp(typed.end_ns // 1000) AS end_time,
    (typed.end_ns - typed.start_ns) / 1e6 AS duration_ms,
    CASE WHEN upper(typed.langfuse_level) = 'ERROR' THEN 'error' ELSE coalesce(typed.status_code, 'unset') END AS status_code,
    nullif(typed.status_message, '') AS status_message,
    nullif(typed.resource_attributes ->> '$."service.name"', '') AS service_name,
    NULL AS agent_name,
    NULL AS agent_uuid,
    typed.session_id,
    typed.span_type,
    coalesce(alias.provider, matched.provider, lower(typed.provider_raw)) AS provider,
    typed.model,
    typed.input_tokens,
    typed.output_tokens,
    typed.cache_read_tokens,
    typed.cache_write_tokens,
    TRUE AS counts_usage,
    typed.cost_usd,
    CASE WHEN typed.cost_usd IS NOT NULL THEN 'span' END AS cost_source,
    CASE WHEN typed.span_type = 'tool' THEN typed.tool_name END AS tool_name,
    CASE WHEN typed.span_type = 'tool' THEN typed.tool_arguments END AS tool_arguments,
    CASE WHEN typed.span_type = 'tool' THEN typed.tool_result END AS tool_result,
    typed.declared_tools,
    lower(typed.finish_reason) AS finish_reason,
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
    $source_files[typed.source_line // $stride + 1] AS source_file,
    typed.source_line % $stride AS source_line,
    typed.declared_agent,
    typed.agent_span_label
FROM typed
LEFT JOIN provider_aliases AS alias ON alias.raw_name = lower(typed.provider_raw)
LEFT JOIN normalize_providers AS matched ON matched.raw_name = lower(typed.provider_raw);
