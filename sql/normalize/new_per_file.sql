-- The spans of normalize_new (to be stored) per file of raw_spans: the file's index is
-- source_line // $stride.
SELECT raw.source_line // $stride AS file_index, count(*) AS spans
FROM normalize_new AS new
JOIN raw_spans AS raw ON raw.rowid = new.raw_row
GROUP BY ALL;
