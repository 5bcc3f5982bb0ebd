-- Spans read per file of a group read together (readers.read_file_group): the file's index is
-- source_line // $stride.
SELECT source_line // $stride AS file_index, count(*) AS spans
FROM raw_spans
GROUP BY ALL;
