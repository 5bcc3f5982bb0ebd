-- The keys of the spans the earlier parts of this file stored (remember_file_keys.sql), on the work
-- database: while a writer thread stores the parts (store_writer.py), the keys of raw_spans are looked
-- up in the store as committed before the file, and here (earlier_keys.sql, earlier_traces.sql).
CREATE OR REPLACE TEMP TABLE normalize_file_keys (
    trace_id VARCHAR,
    span_id  VARCHAR
);
