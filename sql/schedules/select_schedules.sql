-- Schedules with the time of their latest fire: one by id, or all (archived ones on request).
SELECT
    s.schedule_id, s.title, s.agent_uuid, s.frequency, s.minutes, s.hours, s.days_of_week, s.days_of_month,
    s.timezone, s.prompt, s.model_id, s.span_limit, s.lookback_hours, s.max_subagent_depth, s.max_turns,
    s.enabled, s.sources, s.skip_invalid, s.archived_at, s.fired_through, s.created_at, s.updated_at,
    f.last_fired_at
FROM schedules AS s
LEFT JOIN (
    SELECT schedule_id, max(fired_at) AS last_fired_at FROM schedule_fires GROUP BY schedule_id
) AS f USING (schedule_id)
WHERE ($schedule_id::VARCHAR IS NULL OR s.schedule_id = $schedule_id::VARCHAR)
  AND ($include_archived::BOOLEAN OR s.archived_at IS NULL)
ORDER BY s.created_at, s.schedule_id;
