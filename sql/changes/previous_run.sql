-- The run a new analysis compares its findings with: the latest completed analysis run of the same
-- agent created before it (a run with a report; cancelled, failed and empty runs have none), its
-- findings whole (runs/_stored_findings.sql).
{% from "runs/_stored_findings.sql" import stored_findings -%}
WITH previous AS (
    SELECT *
    FROM runs
    WHERE agent_uuid = $agent_uuid
      AND kind = 'analysis'
      AND status = 'completed'
      AND run_id <> $run_id
      AND created_at <= $created_at
    ORDER BY created_at DESC, finished_at DESC NULLS LAST, run_id DESC
    LIMIT 1
)
-- Its findings read back once it is chosen: over every run they were read back for each.
SELECT run_id, {{ stored_findings("previous") }} AS findings, window_start, window_end
FROM previous;
