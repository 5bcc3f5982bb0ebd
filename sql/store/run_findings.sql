-- One run's findings as stored (migration 11).
SELECT findings FROM runs WHERE run_id = $run_id
