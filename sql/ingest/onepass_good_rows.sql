-- The good rows of the chunk just parsed (halo_chunk_rows on the parser's database), in raw_spans'
-- columns: what onepass.py hands from the parser thread to the thread that stores.
SELECT * EXCLUDE (read_error) FROM halo_chunk_rows WHERE read_error IS NULL;
