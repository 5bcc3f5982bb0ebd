-- End a run that is still queued or running; a run that already ended keeps its first outcome.
UPDATE runs
SET status = $status, status_reason = $reason, finished_at = $at
WHERE run_id = $run_id AND status IN ('queued', 'running');
