-- Writes the derived columns onto every span of the derived traces in one pass.
-- A span that a generic kind typed as chain but that carries a model and token usage of its own
-- (it counts usage: no descendant carries any) is a model call: it becomes an llm span.
UPDATE spans
SET span_type    = CASE WHEN spans.span_type = 'chain' AND usage.counts_usage AND spans.model IS NOT NULL
                             AND (spans.input_tokens IS NOT NULL OR spans.output_tokens IS NOT NULL)
                        THEN 'llm' ELSE spans.span_type END,
    agent_name   = agents.agent_name,
    agent_uuid   = uuids.agent_uuid,
    counts_usage = usage.counts_usage,
    cost_usd     = CASE WHEN spans.cost_source = 'span' THEN spans.cost_usd ELSE cost.cost_usd END,
    cost_source  = CASE WHEN spans.cost_source = 'span' THEN 'span' ELSE cost.cost_source END
FROM derived_agents AS agents
JOIN derived_usage AS usage USING (trace_id, span_id)
JOIN agent_uuids AS uuids
  ON uuids.service_name IS NOT DISTINCT FROM agents.service_name
 AND uuids.agent_name IS NOT DISTINCT FROM agents.agent_name
LEFT JOIN derived_cost AS cost USING (trace_id, span_id)
WHERE spans.trace_id = agents.trace_id AND spans.span_id = agents.span_id;
