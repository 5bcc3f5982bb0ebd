-- Runs that ended before $cutoff: their folders (snapshot, report, worker log) can go; the rows stay.
SELECT run_id
FROM runs
WHERE status NOT IN ('queued', 'running') AND finished_at IS NOT NULL AND finished_at < $cutoff
ORDER BY run_id;
