-- The heuristics' findings and checks (JSON) of a run; each finding's affectedTraceIds empty, its
-- traces in run_finding_traces (runs/insert_finding_traces.sql).
UPDATE runs SET findings = $findings, checks = $checks WHERE run_id = $run_id
