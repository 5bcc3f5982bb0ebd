-- First half of claiming a fire time: move fired_through up to the slot if the schedule is still
-- active and nobody fired this or a later slot meanwhile. Returns a row only when it moved.
UPDATE schedules SET fired_through = $slot_at
WHERE schedule_id = $schedule_id AND enabled AND archived_at IS NULL AND fired_through < $slot_at
RETURNING schedule_id;
