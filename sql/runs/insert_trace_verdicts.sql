-- A run's trace verdicts, from the registered Arrow table halo_verdict_rows (one row per trace).
INSERT INTO trace_verdicts
SELECT $run_id, trace_id, rank, score, outcome, ended_badly, outcome_span_id, finding_keys, spans, duration_ms,
       first_seen
FROM halo_verdict_rows
