-- Runs newest first, optionally those of one conversation or one schedule.
SELECT *
FROM runs
WHERE ($conversation_id IS NULL OR conversation_id = $conversation_id)
  AND ($schedule_id IS NULL OR schedule_id = $schedule_id)
ORDER BY created_at DESC, run_id DESC
LIMIT $row_limit;
