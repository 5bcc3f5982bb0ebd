-- The `traces load` summary: traces, agents and time range of the traces the given loaded files hold
-- ($paths and $hashes: their loaded_files keys, paired by position), whether the files' spans were new
-- or stored already from other files. The range takes the earlier and later of each span's start and end, so
-- a span that ends before it starts (clock skew) cannot make it run backwards.
WITH held AS (
    SELECT DISTINCT traces.trace_id
    FROM loaded_file_traces AS traces
    JOIN (SELECT unnest($paths::VARCHAR[]) AS path, unnest($hashes::VARCHAR[]) AS sha256) AS files
        ON traces.path = files.path AND traces.sha256 = files.sha256
)
SELECT count(DISTINCT trace_id), count(DISTINCT agent_uuid),
       min(least(start_time, end_time)), max(greatest(start_time, end_time))
FROM spans
WHERE trace_id IN (SELECT trace_id FROM held);
