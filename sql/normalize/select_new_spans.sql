-- The raw_spans rows to store: the first occurrence of each (trace_id, span_id) in the file, unless
-- the span is stored already (normalize_stored: the keys of raw_spans that the store holds, looked up
-- by normalize.py, since raw_spans may live in another database than the store). span_key numbers
-- them for the extraction; raw_row points back into raw_spans (no copy of the large JSON columns).
-- A Jinja template: `repeated` false when no key appears twice in raw_spans (normalize.py counts them),
-- which leaves out the window that picks each key's first occurrence (half the statement's CPU).
CREATE OR REPLACE TEMP TABLE normalize_new AS
SELECT
    row_number() OVER (ORDER BY raw.source_line, raw.trace_id, raw.span_id) AS span_key,
    raw.raw_row,
    raw.trace_id,
    raw.span_id
FROM (
    SELECT rowid AS raw_row, trace_id, span_id, source_line FROM raw_spans
    {% if repeated %}QUALIFY row_number() OVER (PARTITION BY trace_id, span_id ORDER BY source_line, start_ns, name) = 1{% endif %}
) AS raw
WHERE NOT EXISTS (
    SELECT 1 FROM normalize_stored AS stored
    WHERE stored.trace_id = raw.trace_id AND stored.span_id = raw.span_id
);

-- One chunk of them at a time (span_key in the chunk set by insert_normalized), so that the memory
-- the field extraction needs stays bounded however large the file is.
CREATE OR REPLACE TEMP VIEW normalize_input AS
SELECT new.span_key, raw.name, raw.status_code, raw.status_message, raw.attributes, raw.events
FROM normalize_new AS new
JOIN raw_spans AS raw ON raw.rowid = new.raw_row
WHERE new.span_key BETWEEN getvariable('normalize_chunk_first') AND getvariable('normalize_chunk_last');
