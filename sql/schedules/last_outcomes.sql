-- Each schedule's last outcome, so a broken nightly schedule is visible in `schedule list` and the
-- tick log: its latest fire that has ended, as completed / no_traces / failed / cancelled /
-- timed_out (the run's status) or failed (no run could be started: the fire's error), with the
-- number of new high findings of a completed run (runs.changes, halo_local/changes.py).
WITH ended AS (
    SELECT
        f.schedule_id,
        f.slot_at,
        f.run_id,
        CASE WHEN f.run_id IS NULL THEN 'failed' ELSE r.status END                  AS outcome,
        coalesce(f.error, r.status_reason)                                          AS reason,
        CAST(json_extract(r.changes, '$.newHigh') AS INTEGER)                       AS new_high,
        coalesce(r.finished_at, f.fired_at)                                         AS ended_at
    FROM schedule_fires AS f
    LEFT JOIN runs AS r USING (run_id)
    WHERE f.error IS NOT NULL
       OR r.status IN ('completed', 'no_traces', 'failed', 'cancelled', 'timed_out')
)
SELECT schedule_id, slot_at, run_id, outcome, reason, new_high, ended_at
FROM ended
QUALIFY row_number() OVER (PARTITION BY schedule_id ORDER BY slot_at DESC) = 1;
