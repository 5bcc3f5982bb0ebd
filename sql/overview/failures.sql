-- The overview's failing spans of one agent's window (see overview/_window.sql) per subject (tool or
-- span name) and type; clickhouse/overview.sql counts the same in the cluster.
WITH {% include "overview/_window.sql" %}
SELECT
    coalesce(tool_name, name)    AS subject,
    span_type,
    count(*)                     AS spans,
    count(DISTINCT trace_id)     AS traces
FROM agent_window
WHERE status_code = 'error'
GROUP BY ALL
ORDER BY spans DESC, subject, span_type
LIMIT $row_limit;
