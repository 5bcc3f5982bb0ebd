-- The overview's usage and cost per model of one agent's window (see overview/_window.sql), each call
-- counted once (counts_usage); unpriced calls are counted apart and never priced at 0.
-- clickhouse/overview.sql counts the same in the cluster, priced with the same genai-prices rates.
WITH {% include "overview/_window.sql" %}
SELECT
    coalesce(model, '(unknown model)')                               AS model,
    any_value(provider ORDER BY provider NULLS LAST)                 AS provider,
    count(*)                                                         AS calls,
    coalesce(sum(input_tokens), 0)                                   AS input_tokens,
    coalesce(sum(output_tokens), 0)                                  AS output_tokens,
    coalesce(sum(cache_read_tokens), 0)                              AS cache_read_tokens,
    sum(cost_usd)                                                    AS cost_usd,
    count(*) FILTER (WHERE cost_source = 'unpriced')                 AS unpriced_calls
FROM agent_window
WHERE counts_usage
  AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL OR cost_usd IS NOT NULL)
GROUP BY ALL
ORDER BY cost_usd DESC NULLS LAST, calls DESC, model
LIMIT $row_limit;
