-- Forget a run's trace verdicts before they are written again (inside the caller's transaction).
DELETE FROM trace_verdicts WHERE run_id = $run_id
