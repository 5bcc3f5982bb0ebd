-- Runs that are queued or running: the candidates for reaping (dead worker, no heartbeat, over time).
SELECT run_id, status, worker_pid, worker_started_ticks, worker_host, heartbeat_at, created_at,
       started_at, time_limit_seconds
FROM runs
WHERE status IN ('queued', 'running')
ORDER BY created_at, run_id;
