-- Where a loaded JSON Lines file's complete lines end: the byte after its last newline, the SHA-256 of
-- the bytes before it and how many lines they hold. An exporter appends to its file, and the next load
-- of that file reads from there on when those bytes are unchanged, instead of parsing it all again.
-- NULL for gzip files, whole JSON documents, and files loaded before this migration (read whole once).
ALTER TABLE loaded_files ADD COLUMN complete_bytes BIGINT;
ALTER TABLE loaded_files ADD COLUMN complete_sha256 VARCHAR;
ALTER TABLE loaded_files ADD COLUMN line_count BIGINT;
