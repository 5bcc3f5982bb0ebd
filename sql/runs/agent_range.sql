-- The time range an agent's stored spans cover, for the `no_traces` message.
SELECT count(*) AS spans, min(start_time) AS first_start, max(start_time) AS last_start
FROM spans
WHERE agent_uuid = $agent_uuid;
