-- The agents of the traces the given loaded files hold ($paths and $hashes: their loaded_files keys,
-- paired by position; the spans may have been stored from other files first), busiest first, with the
-- time range they cover: what `analyze PATH` analyses when no agent is named.
WITH held AS (
    SELECT DISTINCT traces.trace_id
    FROM loaded_file_traces AS traces
    JOIN (SELECT unnest($paths::VARCHAR[]) AS path, unnest($hashes::VARCHAR[]) AS sha256) AS files
        ON traces.path = files.path AND traces.sha256 = files.sha256
)
SELECT
    agent_uuid,
    any_value(agent_name)                  AS agent_name,
    any_value(service_name)                AS service_name,
    count(*)                               AS spans,
    count(DISTINCT trace_id)               AS traces,
    min(start_time)                        AS first_start,
    max(start_time)                        AS last_start
FROM spans
WHERE trace_id IN (SELECT trace_id FROM held)
GROUP BY agent_uuid
ORDER BY spans DESC, agent_uuid;
