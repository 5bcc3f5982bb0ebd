-- A run's most recent events after $after_seq, returned oldest first.
SELECT seq, created_at AS "at", kind, message, detail
FROM (
    SELECT * FROM run_events
    WHERE run_id = $run_id AND seq > $after_seq
    ORDER BY seq DESC
    LIMIT $row_limit
)
ORDER BY seq;
