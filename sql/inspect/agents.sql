-- Agents with spans since $since (NULL = all time), most recently active first.
SELECT
    agent_uuid,
    any_value(agent_name)                                   AS name,
    any_value(service_name)                                 AS service_name,
    count(DISTINCT trace_id)                                AS trace_count,
    count(*)                                                AS span_count,
    count(*) FILTER (WHERE status_code = 'error')           AS error_count,
    min(start_time)                                         AS first_seen_at,
    max(coalesce(end_time, start_time))                     AS last_seen_at
FROM spans
WHERE $since IS NULL OR start_time >= $since
GROUP BY agent_uuid
ORDER BY last_seen_at DESC, agent_uuid;
