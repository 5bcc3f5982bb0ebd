-- The run a new analysis compares its findings with: the latest completed analysis run of the same
-- agent created before it (a run with a report; cancelled, failed and empty runs have none), its
-- findings as stored: the comparison reads their keys, values and counts, not their trace lists
-- (runs/_stored_findings.sql would read those back: ~0.1 s at 1M spans, for nothing).
SELECT run_id, findings, window_start, window_end
FROM runs
WHERE agent_uuid = $agent_uuid
  AND kind = 'analysis'
  AND status = 'completed'
  AND run_id <> $run_id
  AND created_at <= $created_at
ORDER BY created_at DESC, finished_at DESC NULLS LAST, run_id DESC
LIMIT 1;
