-- The agent's traces in [$window_start, $window_end), in the order a run's snapshot takes them
-- (traces with an error first, then the newest), each with its spans and the running span count up
-- to it: one row a trace, so the window's span and trace counts are read from here too (the window
-- is scanned once for them, on its narrow columns).
CREATE OR REPLACE TEMP TABLE halo_snapshot_traces AS
WITH per_trace AS (
    SELECT
        trace_id,
        count(*)                          AS span_count,
        bool_or(status_code = 'error')    AS has_error,
        max(start_ns)                     AS last_start_ns
    FROM spans
    WHERE agent_uuid = $agent_uuid
      AND start_time >= $window_start
      AND start_time < $window_end
    GROUP BY trace_id
)
SELECT
    trace_id,
    span_count,
    row_number() OVER picked                                  AS trace_rank,
    sum(span_count) OVER (picked ROWS UNBOUNDED PRECEDING)    AS running_spans
FROM per_trace
WINDOW picked AS (ORDER BY has_error DESC, last_start_ns DESC, trace_id);
