-- What became of a claimed fire time: the run it created, or why it created none.
UPDATE schedule_fires SET run_id = $run_id, error = $error
WHERE schedule_id = $schedule_id AND slot_at = $slot_at;
