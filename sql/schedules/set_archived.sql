-- Archive (archived_at = the time) or unarchive (NULL) a schedule. Unarchiving moves fired_through
-- up to now, so the slots that passed while it was archived are not owed.
UPDATE schedules SET
    archived_at = $archived_at::TIMESTAMP,
    fired_through = CASE WHEN $archived_at::TIMESTAMP IS NULL THEN greatest(fired_through, $now) ELSE fired_through END,
    updated_at = $now
WHERE schedule_id = $schedule_id;
