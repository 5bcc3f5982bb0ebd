-- The bad records of the batch just read: how many, and the first $limit of them in file order.
SELECT
    count(*) AS bad_count,
    coalesce(list({'line': source_line, 'reason': read_error} ORDER BY source_line)[1:$limit], []) AS bad_rows
FROM halo_chunk_rows
WHERE read_error IS NOT NULL;
