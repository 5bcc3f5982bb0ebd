-- Record the first cancel request of a run (a later one keeps the first request's time and reason).
UPDATE runs SET cancel_requested_at = $at, cancel_reason = $reason
WHERE run_id = $run_id AND cancel_requested_at IS NULL
