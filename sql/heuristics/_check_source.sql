-- Fails (CatalogException) when $table names no table or view to analyze; returns no rows.
SELECT * FROM query_table($table) LIMIT 0
