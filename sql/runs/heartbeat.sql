-- Move a running run's heartbeat; no row changes when another process ended the run.
UPDATE runs SET heartbeat_at = $at WHERE run_id = $run_id AND status = 'running'
