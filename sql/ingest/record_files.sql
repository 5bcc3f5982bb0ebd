-- The loaded_files rows of the files of a group just loaded (as record_file.sql, one list per column,
-- paired by position).
INSERT INTO loaded_files (path, sha256, size_bytes, mtime_ns, format, spans_read, spans_new, skipped,
                          complete_bytes, complete_sha256, line_count)
SELECT unnest(CAST($paths AS VARCHAR[])), unnest(CAST($hashes AS VARCHAR[])), unnest(CAST($size_bytes AS BIGINT[])),
       unnest(CAST($mtime_ns AS BIGINT[])), unnest(CAST($formats AS VARCHAR[])), unnest(CAST($spans_read AS BIGINT[])),
       unnest(CAST($spans_new AS BIGINT[])), 0, unnest(CAST($complete_bytes AS BIGINT[])),
       unnest(CAST($complete_hashes AS VARCHAR[])), unnest(CAST($line_counts AS BIGINT[]));
