-- Rewrite every editable column of one schedule (the Python side merged the changes and validated them).
UPDATE schedules SET
    title = $title, agent_uuid = $agent_uuid, frequency = $frequency, minutes = $minutes, hours = $hours,
    days_of_week = $days_of_week, days_of_month = $days_of_month, timezone = $timezone, prompt = $prompt,
    model_id = $model_id, span_limit = $span_limit, lookback_hours = $lookback_hours,
    max_subagent_depth = $max_subagent_depth, max_turns = $max_turns, enabled = $enabled,
    sources = $sources, skip_invalid = $skip_invalid, fired_through = $fired_through, updated_at = $now
WHERE schedule_id = $schedule_id;
