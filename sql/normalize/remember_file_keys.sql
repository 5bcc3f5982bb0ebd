-- The spans this part stores (normalize_new), for the look-ups of the file's later parts (file_keys_table.sql).
INSERT INTO normalize_file_keys
SELECT trace_id, span_id FROM normalize_new;
