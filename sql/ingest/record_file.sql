-- The loaded_files row of a file just loaded: what it held, and where a later load of it, grown, may
-- resume (complete_bytes, complete_sha256, line_count: NULL where a read cannot resume).
INSERT INTO loaded_files (path, sha256, size_bytes, mtime_ns, format, spans_read, spans_new, skipped,
                          complete_bytes, complete_sha256, line_count)
VALUES ($path, $sha256, $size_bytes, $mtime_ns, $format, $spans_read, $spans_new, $skipped,
        $complete_bytes, $complete_sha256, $line_count);
