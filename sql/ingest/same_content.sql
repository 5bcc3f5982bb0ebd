-- A load of the same content ($sha256) at this path or another (a copy), this path first.
SELECT path, format
FROM loaded_files
WHERE sha256 = $sha256 AND (skipped = 0 OR $skip_invalid)
ORDER BY path = $path DESC, loaded_at DESC
LIMIT 1;
