-- Writes the derived columns (derived_columns.sql) onto every span of the derived traces in one pass.
UPDATE spans
SET span_type    = derived.span_type,
    agent_name   = derived.agent_name,
    agent_uuid   = derived.agent_uuid,
    counts_usage = derived.counts_usage,
    cost_usd     = derived.cost_usd,
    cost_source  = derived.cost_source
FROM derived_columns AS derived
WHERE spans.trace_id = derived.trace_id AND spans.span_id = derived.span_id;
