-- The latest load of each file of $paths (as known_file.sql, for many files in one statement).
SELECT path, sha256, size_bytes, mtime_ns, format
FROM loaded_files
WHERE path IN (SELECT unnest(CAST($paths AS VARCHAR[]))) AND (skipped = 0 OR $skip_invalid)
QUALIFY row_number() OVER (PARTITION BY path ORDER BY loaded_at DESC) = 1;
