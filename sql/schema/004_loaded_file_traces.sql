-- The traces each loaded file holds: the trace id of every span read from it, new or already stored
-- from another file. spans.source_file names only the first file a span came from, so without this a
-- file whose spans were loaded before (the same traces in another format, a copy) would seem empty.
CREATE TABLE loaded_file_traces (
    path     VARCHAR NOT NULL,   -- loaded_files.path
    sha256   VARCHAR NOT NULL,   -- loaded_files.sha256
    trace_id VARCHAR NOT NULL
    -- (path, sha256, trace_id) is unique: the loader writes a file's rows once, in the transaction that
    -- adds its loaded_files row. No PRIMARY KEY, like spans: its index would only cost memory.
);

-- Files loaded before this table: where every span read was new (spans_new = spans_read), every span
-- names the file as its source_file, so that column gives exactly its traces.
INSERT INTO loaded_file_traces (path, sha256, trace_id)
SELECT DISTINCT files.path, files.sha256, spans.trace_id
FROM loaded_files AS files
JOIN spans ON spans.source_file = files.path
WHERE files.spans_read > 0 AND files.spans_new = files.spans_read;

-- Where some were duplicates, source_file cannot tell which traces they belong to: forget the file, so
-- that its next load reads it again (storing nothing new) and records its traces.
DELETE FROM loaded_files WHERE spans_new < spans_read;
