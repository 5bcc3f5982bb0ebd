-- Append one event to a run's timeline; seq numbers the run's events 1, 2, ...
INSERT INTO run_events (run_id, seq, created_at, kind, message, detail)
SELECT $run_id, coalesce(max(seq), 0) + 1, $at, $kind, $message, $detail
FROM run_events
WHERE run_id = $run_id;
