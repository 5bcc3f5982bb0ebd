-- Record what a run's snapshot holds (its trace dataset).
UPDATE runs
SET snapshot_spans = $snapshot_spans,
    snapshot_traces = $snapshot_traces,
    window_spans = $window_spans,
    window_traces = $window_traces,
    snapshot_truncated = $snapshot_truncated,
    previous_spans = $previous_spans
WHERE run_id = $run_id;
