-- What the window holds (spans, traces) and what a run's snapshot of it keeps under $span_limit:
-- whole traces while the running span count stays within the limit, or else the first trace alone,
-- cut to $span_limit spans (runs/snapshot_keys.sql). Read from halo_snapshot_traces, one row a trace.
SELECT
    coalesce(sum(span_count), 0)                                                  AS window_spans,
    count(*)                                                                      AS window_traces,
    coalesce(sum(span_count) FILTER (WHERE running_spans <= $span_limit), 0)      AS kept_spans,
    count(*) FILTER (WHERE running_spans <= $span_limit)                          AS kept_traces
FROM halo_snapshot_traces;
