-- The overview's tool use of one agent's window (see overview/_window.sql): each tool's calls,
-- failures and exact latency percentiles; clickhouse/overview.sql counts the same in the cluster.
-- BeeAI's per-instance counter (tool.search.wikipedia.start-12) is cut from the name, as
-- halo_h_subject does.
WITH {% include "overview/_window.sql" %}
SELECT
    CASE WHEN contains(lower(coalesce(scope_name, '')), 'beeai')
         THEN regexp_replace(coalesce(tool_name, name), '-[0-9]+$', '')
         ELSE coalesce(tool_name, name) END                AS tool,
    count(*)                                               AS calls,
    count(DISTINCT trace_id)                               AS traces,
    count(*) FILTER (WHERE status_code = 'error')          AS errors,
    quantile_cont((last_ns - start_ns) / 1e6, 0.5)         AS p50_ms,
    quantile_cont((last_ns - start_ns) / 1e6, 0.95)        AS p95_ms
FROM agent_window
WHERE span_type = 'tool'
GROUP BY ALL
ORDER BY calls DESC, tool
LIMIT $row_limit;
