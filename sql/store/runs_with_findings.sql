-- The runs that have findings (migration 11 moves their trace lists one run at a time).
SELECT run_id FROM runs WHERE findings IS NOT NULL ORDER BY run_id
