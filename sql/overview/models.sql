-- The window-wide overview of one agent: calls and tokens per model, each call counted once
-- (counts_usage); clickhouse/overview_models.sql is the same over the cluster.
WITH {% include "overview/_window.sql" %}
SELECT
    coalesce(model, '(unknown model)')      AS model,
    count(*)                                AS calls,
    coalesce(sum(input_tokens), 0)          AS input_tokens,
    coalesce(sum(output_tokens), 0)         AS output_tokens,
    coalesce(sum(cache_read_tokens), 0)     AS cache_read_tokens
FROM agent_window
WHERE counts_usage AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL OR cost_source = 'span')
GROUP BY ALL
ORDER BY calls DESC, model
LIMIT $row_limit;
