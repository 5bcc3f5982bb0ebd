-- The spans a run's snapshot keeps when the first trace (in halo_snapshot_traces' order) alone
-- holds more than $span_limit spans: that trace's earliest $span_limit spans, as keys (a window with
-- spans never yields an empty snapshot). Only these narrow keys are sorted, never full rows.
CREATE OR REPLACE TEMP TABLE halo_snapshot_keys AS
SELECT spans.trace_id, spans.span_id, spans.start_ns
FROM spans
WHERE spans.agent_uuid = $agent_uuid
  AND spans.start_time >= $window_start
  AND spans.start_time < $window_end
  AND spans.trace_id = (SELECT trace_id FROM halo_snapshot_traces WHERE trace_rank = 1)
ORDER BY spans.start_ns, spans.trace_id, spans.span_id
LIMIT $span_limit;
