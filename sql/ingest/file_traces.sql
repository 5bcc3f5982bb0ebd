-- Record the traces a loaded file holds (loaded_file_traces): those of the spans just read
-- ($trace_ids), and, for a file read from where its previous load ($previous, that load's sha256)
-- ended, those of the lines it did not read again. Made distinct here, since a trace may span parts
-- and both sources.
INSERT INTO loaded_file_traces (path, sha256, trace_id)
SELECT DISTINCT $path, $sha256, trace_id
FROM (
    SELECT unnest(CAST($trace_ids AS VARCHAR[])) AS trace_id
    UNION ALL
    SELECT trace_id FROM loaded_file_traces WHERE path = $path AND sha256 = $previous
);
