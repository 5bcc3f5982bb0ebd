-- Writes the derived columns (derived_columns.sql) onto every span of the derived traces in one pass.
UPDATE spans
SET span_type    = derived.span_type,
    agent_name   = derived.agent_name,
    agent_uuid   = derived.agent_uuid,
    counts_usage = derived.counts_usage,
    cost_usd     = derived.cost_usd,
    cost_source  = derived.cost_source,
    -- The secret verdict covered the agent name it was made with: a new one is checked at snapshot.
    secret_free_under_rules = CASE WHEN derived.agent_name IS NOT DISTINCT FROM spans.agent_name
                                   THEN spans.secret_free_under_rules END
FROM derived_columns AS derived
WHERE spans.trace_id = derived.trace_id AND spans.span_id = derived.span_id;
