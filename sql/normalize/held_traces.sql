-- Every trace each file of raw_spans holds, new or duplicate (what loaded_file_traces records): the
-- file's index is source_line // $stride.
SELECT source_line // $stride AS file_index, list(DISTINCT trace_id ORDER BY trace_id) AS trace_ids
FROM raw_spans
GROUP BY ALL;
