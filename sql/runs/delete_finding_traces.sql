-- A run's finding traces, before they are saved again.
DELETE FROM run_finding_traces WHERE run_id = $run_id
