-- The run's first $row_limit flagged traces (score > 0) in rank order: the report's "Read these traces first".
SELECT trace_id, rank, score, outcome, ended_badly, outcome_span_id, finding_keys, spans, duration_ms, first_seen
FROM trace_verdicts
WHERE run_id = $run_id
  AND score > 0
ORDER BY rank
LIMIT $row_limit
