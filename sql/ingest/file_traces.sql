-- Record the traces a loaded file holds (loaded_file_traces): those of the spans just read (the Arrow
-- table held_trace_ids, read through DuckDB's replacement scan), and, for a file read from where its
-- previous load ($previous, that load's sha256) ended, those of the lines it did not read again.
-- Made distinct here, since a trace may span parts and both sources.
INSERT INTO loaded_file_traces (path, sha256, trace_id)
SELECT DISTINCT $path, $sha256, trace_id
FROM (
    SELECT trace_id FROM held_trace_ids
    UNION ALL
    SELECT trace_id FROM loaded_file_traces WHERE path = $path AND sha256 = $previous
);
