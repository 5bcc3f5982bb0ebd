-- New spans (normalize_typed: normalize_new of this chunk) with their canonical columns, in the column
-- order of insert_spans.sql. The columns that need the whole trace (agent, counts_usage, computed cost,
-- the chain-to-llm span type) come from derived_columns.sql where derive_fresh.sql could derive the
-- trace now; the others get placeholders that derive_trace_columns overwrites (a cost given on the
-- span is kept). Runs where raw_spans is; insert_spans.sql stores the result. source_line tells the
-- files of raw_spans apart: file i ($source_files[i + 1]) holds source_line // $stride = i.
-- The last column, the current rules' fingerprint, is what the insert stores as each clean span's verdict.
SELECT
    typed.trace_id,
    typed.span_id,
    typed.parent_span_id,
    typed.name,
    coalesce(raw.kind, 'unspecified') AS kind,
    typed.start_ns,
    typed.end_ns,
    typed.start_time,
    make_timestamp(typed.end_ns // 1000) AS end_time,
    (typed.end_ns - typed.start_ns) / 1e6 AS duration_ms,
    CASE WHEN upper(fields.langfuse_level) = 'ERROR' THEN 'error' ELSE coalesce(raw.status_code, 'unset') END AS status_code,
    nullif(raw.status_message, '') AS status_message,
    typed.service_name,
    derived.agent_name,
    derived.agent_uuid,
    fields.session_id,
    coalesce(derived.span_type, typed.span_type) AS span_type,
    typed.provider,
    typed.model,
    typed.input_tokens,
    typed.output_tokens,
    typed.cache_read_tokens,
    typed.cache_write_tokens,
    coalesce(derived.counts_usage, TRUE) AS counts_usage,
    CASE WHEN derived.span_key IS NULL THEN typed.cost_usd ELSE derived.cost_usd END AS cost_usd,
    CASE WHEN derived.span_key IS NULL THEN typed.cost_source ELSE derived.cost_source END AS cost_source,
    CASE WHEN typed.span_type = 'tool' THEN fields.tool_name END AS tool_name,
    CASE WHEN typed.span_type = 'tool' THEN fields.tool_arguments END AS tool_arguments,
    CASE WHEN typed.span_type = 'tool' THEN fields.tool_result END AS tool_result,
    fields.declared_tools,
    lower(fields.finish_reason) AS finish_reason,
    fields.error_type,
    fields.error_message,
    fields.input_text,
    fields.output_text,
    raw.scope_name,
    raw.scope_version,
    raw.attributes,
    raw.resource_attributes,
    raw.events,
    raw.links,
    $source_files[raw.source_line // $stride + 1] AS source_file,
    raw.source_line % $stride AS source_line,
    $secret_rules AS secret_rules
FROM normalize_typed AS typed
JOIN normalize_new AS new USING (span_key)
JOIN raw_spans AS raw ON raw.rowid = new.raw_row
JOIN normalize_fields AS fields USING (span_key)
LEFT JOIN derived_columns AS derived USING (span_key);
