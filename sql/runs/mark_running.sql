-- queued -> running, claimed by this process; no row changes when the run was cancelled or taken.
UPDATE runs SET status = 'running', started_at = $at, heartbeat_at = $at, worker_pid = $pid,
    worker_host = $host, worker_started_ticks = $ticks
WHERE run_id = $run_id AND status = 'queued'
