-- The derived columns of every span of derive_spans, as stored (derived_agents, derived_usage and
-- derived_cost are keyed by its span_key): apply_derived.sql writes them onto stored spans,
-- normalized_rows.sql with the insert of new ones.
-- A span that a generic kind typed as chain but that carries a model and token usage of its own
-- (it counts usage: no descendant carries any) is a model call: it becomes an llm span.
CREATE OR REPLACE TEMP TABLE derived_columns AS
SELECT
    spans.span_key,
    spans.trace_id,
    spans.span_id,
    CASE WHEN spans.span_type = 'chain' AND usage.counts_usage AND spans.model IS NOT NULL
              AND (spans.input_tokens IS NOT NULL OR spans.output_tokens IS NOT NULL)
         THEN 'llm' ELSE spans.span_type END AS span_type,
    agents.agent_name,
    uuids.agent_uuid,
    usage.counts_usage,
    CASE WHEN spans.cost_source = 'span' THEN spans.cost_usd ELSE cost.cost_usd END AS cost_usd,
    CASE WHEN spans.cost_source = 'span' THEN 'span' ELSE cost.cost_source END AS cost_source
FROM derive_spans AS spans
JOIN derived_agents AS agents USING (span_key)
JOIN derived_usage AS usage USING (span_key)
JOIN agent_uuids AS uuids
  ON uuids.service_name IS NOT DISTINCT FROM agents.service_name
 AND uuids.agent_name IS NOT DISTINCT FROM agents.agent_name
LEFT JOIN derived_cost AS cost USING (span_key);
