-- The attribute keys the spans of normalize_input hold, when they are at most $limit spans (else NULL;
-- a NULL $limit: always, as the one-pass loader asks for each of its chunks): extract_plain.sql is then
-- generated for the mapped keys among them only, since planning a candidate costs far more than running
-- it on a few spans. A key that no span holds gives every candidate of it NULL, so leaving it out changes
-- no column.
WITH chunk AS (
    SELECT attributes FROM normalize_input LIMIT $limit + 1
)
SELECT CASE WHEN $limit IS NULL OR (SELECT count(*) FROM chunk) <= $limit THEN coalesce((
    SELECT list(DISTINCT key ORDER BY key)
    FROM (SELECT unnest(json_keys(attributes)) AS key FROM chunk WHERE json_type(attributes) = 'OBJECT')
), []) END;
