-- The agents whose spans came from the given files, busiest first, with the time range they cover:
-- what `analyze PATH` analyses when no agent is named.
SELECT
    agent_uuid,
    any_value(agent_name)                  AS agent_name,
    any_value(service_name)                AS service_name,
    count(*)                               AS spans,
    count(DISTINCT trace_id)               AS traces,
    min(start_time)                        AS first_start,
    max(start_time)                        AS last_start
FROM spans
WHERE source_file IN (SELECT unnest($sources::VARCHAR[]))
GROUP BY agent_uuid
ORDER BY spans DESC, agent_uuid;
