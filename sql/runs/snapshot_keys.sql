-- The spans a run's snapshot holds, as keys in the snapshot's order: whole traces, in
-- halo_snapshot_traces' order, while the running span count stays within $span_limit. The first
-- trace is always kept (cut to its earliest spans if it alone exceeds the limit), so a window with
-- spans never yields an empty snapshot. Only keys are sorted here: the full rows are sorted a chunk
-- at a time as they are written (runs/snapshot.sql).
CREATE OR REPLACE TEMP TABLE halo_snapshot_keys AS
SELECT
    spans.trace_id,
    spans.span_id,
    spans.start_ns,
    row_number() OVER (ORDER BY spans.start_ns, spans.trace_id, spans.span_id) AS position
FROM spans
JOIN halo_snapshot_traces AS kept
  ON kept.trace_id = spans.trace_id
 AND (kept.running_spans <= $span_limit OR kept.trace_rank = 1)
WHERE spans.agent_uuid = $agent_uuid
  AND spans.start_time >= $window_start
  AND spans.start_time < $window_end
QUALIFY position <= $span_limit;
