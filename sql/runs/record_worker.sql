-- The detached worker started for a run (unless the run already claimed a worker of its own).
UPDATE runs SET worker_pid = $pid, worker_host = $host, worker_started_ticks = $ticks
WHERE run_id = $run_id AND worker_pid IS NULL
