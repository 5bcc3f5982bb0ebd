-- A run's trace verdicts in rank order: all, or with $flagged only the flagged ones (score > 0: they
-- ended badly, or a finding that does not cover every trace of the window covers them); at most
-- $row_limit.
SELECT rank, trace_id, score, outcome, ended_badly, outcome_span_id, finding_keys, spans, duration_ms, first_seen
FROM trace_verdicts
WHERE run_id = $run_id
  AND (NOT $flagged OR score > 0)
ORDER BY rank
LIMIT $row_limit
