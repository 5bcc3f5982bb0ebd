-- Stored ids that start with $prefix (an exact id first), at most $row_limit: the shape varies by kind.
SELECT DISTINCT {{ column }} AS id, {{ column }} = $prefix AS exact
FROM {{ table }}
WHERE starts_with({{ column }}, $prefix)
ORDER BY exact DESC, id
LIMIT $row_limit;
