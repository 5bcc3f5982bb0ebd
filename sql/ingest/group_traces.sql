-- The traces each file of a group just loaded holds ($trace_ids: one list per file of $paths).
INSERT INTO loaded_file_traces (path, sha256, trace_id)
SELECT DISTINCT path, sha256, unnest(trace_ids)
FROM (
    SELECT unnest(CAST($paths AS VARCHAR[])) AS path, unnest(CAST($hashes AS VARCHAR[])) AS sha256,
           unnest(CAST($trace_ids AS VARCHAR[][])) AS trace_ids
);
