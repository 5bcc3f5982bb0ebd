-- The fire times of one schedule, newest first, with the status of the run each created.
SELECT f.schedule_id, f.slot_at, f.fired_at, f.run_id, f.error, r.status AS run_status
FROM schedule_fires AS f
LEFT JOIN runs AS r USING (run_id)
WHERE f.schedule_id = $schedule_id
ORDER BY f.slot_at DESC
LIMIT $limit;
