-- The latest load of the file at $path: unchanged when its size and mtime match; a strict load
-- ($skip_invalid false) does not take the word of a load that skipped bad records, and reads it again.
SELECT sha256, size_bytes, mtime_ns, format, complete_bytes, complete_sha256, line_count
FROM loaded_files
WHERE path = $path AND (skipped = 0 OR $skip_invalid)
ORDER BY loaded_at DESC
LIMIT 1;
