-- The new spans of this chunk (normalize_new) with the columns that deriving agents, usage and cost
-- reads (those of derive_input.sql), as they are stored, and their agent-name fields: derive_fresh.sql
-- derives from these narrow columns, normalized_rows.sql stores them.
CREATE OR REPLACE TEMP TABLE normalize_typed AS
SELECT
    new.span_key,
    raw.trace_id,
    raw.span_id,
    raw.parent_span_id,
    coalesce(raw.name, '') AS name,
    raw.start_ns,
    raw.end_ns,
    make_timestamp(raw.start_ns // 1000) AS start_time,
    nullif(raw.resource_attributes ->> '$."service.name"', '') AS service_name,
    coalesce(fields.span_type, CASE WHEN fields.model IS NOT NULL THEN 'llm' ELSE 'other' END) AS span_type,
    coalesce(alias.provider, matched.provider, lower(fields.provider_raw)) AS provider,
    -- Vertex AI model resource names keep only the model id.
    regexp_replace(fields.model, '^projects/[^/]+/locations/[^/]+/publishers/[^/]+/models/', '') AS model,
    fields.input_tokens,
    fields.output_tokens,
    fields.cache_read_tokens,
    fields.cache_write_tokens,
    fields.cost_usd,
    CASE WHEN fields.cost_usd IS NOT NULL THEN 'span' END AS cost_source,
    fields.declared_agent,
    fields.agent_span_label
FROM normalize_new AS new
JOIN raw_spans AS raw ON raw.rowid = new.raw_row
JOIN normalize_fields AS fields USING (span_key)
LEFT JOIN provider_aliases AS alias ON alias.raw_name = lower(fields.provider_raw)
LEFT JOIN normalize_providers AS matched ON matched.raw_name = lower(fields.provider_raw)
WHERE new.span_key BETWEEN getvariable('normalize_chunk_first') AND getvariable('normalize_chunk_last');
