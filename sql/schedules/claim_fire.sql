-- Second half of claiming a fire time: returns a row only when this tick inserted it.
INSERT INTO schedule_fires (schedule_id, slot_at, fired_at)
VALUES ($schedule_id, $slot_at, $fired_at)
ON CONFLICT DO NOTHING
RETURNING slot_at;
