-- Which contents of $hashes a load recorded already, at any path (as same_content.sql, for many files).
SELECT DISTINCT sha256
FROM loaded_files
WHERE sha256 IN (SELECT unnest(CAST($hashes AS VARCHAR[]))) AND (skipped = 0 OR $skip_invalid);
