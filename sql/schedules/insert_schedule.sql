-- A new schedule; fired_through starts at its creation so that no earlier slot is owed.
INSERT INTO schedules (
    schedule_id, title, agent_uuid, frequency, minutes, hours, days_of_week, days_of_month, timezone,
    prompt, model_id, span_limit, lookback_hours, max_subagent_depth, max_turns, enabled, archived_at,
    sources, skip_invalid, fired_through, created_at, updated_at
) VALUES (
    $schedule_id, $title, $agent_uuid, $frequency, $minutes, $hours, $days_of_week, $days_of_month, $timezone,
    $prompt, $model_id, $span_limit, $lookback_hours, $max_subagent_depth, $max_turns, $enabled, NULL,
    $sources, $skip_invalid, $now, $now, $now
);
