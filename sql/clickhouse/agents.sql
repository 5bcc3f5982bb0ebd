-- Agents with spans since $window_start_us (NULL = all time), one row per (service, agent) pair:
-- the local agents query (inspect/agents.sql) over the cluster. halo-local turns each pair into its
-- agent_uuid (uuid5) (a missing service or agent counts as empty, as in the uuid).
WITH
{% set agents_only = true %}
{% include "clickhouse/_agent_spans.sql" %}
SELECT
    service_name,
    agent_name,
    uniqExact(trace_id)                      AS trace_count,
    count()                                  AS span_count,
    countIf(status_code = 'error')           AS error_count,
    min(start_ns)                            AS first_start_ns,
    max(end_ns)                              AS last_end_ns
FROM agent_spans
WHERE {window_start_us:Nullable(Int64)} IS NULL OR start_ns >= {window_start_us:Nullable(Int64)} * 1000
GROUP BY service_name, agent_name
ORDER BY last_end_ns DESC, service_name, agent_name
