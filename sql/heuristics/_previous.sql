-- The previous window of the same length (for regressions), reduced to what comparisons need.
-- Parameters: $source_table, $agent_uuid. Runs after _prepare.sql (uses its macros).
CREATE OR REPLACE TEMP TABLE halo_h_previous AS
SELECT
    trace_id,
    span_id,
    span_type,
    halo_h_subject(span_type, tool_name, model, name, scope_name) AS subject,
    status_code,
    duration_ms,
    coalesce(counts_usage, TRUE)                      AS counts_usage,
    CAST(cost_usd AS DOUBLE)                          AS cost_usd
FROM query_table($source_table)
WHERE agent_uuid = $agent_uuid;
