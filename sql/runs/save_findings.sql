-- The heuristics' findings and checks (JSON) of a run.
UPDATE runs SET findings = $findings, checks = $checks WHERE run_id = $run_id
