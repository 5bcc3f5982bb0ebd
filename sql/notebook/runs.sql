-- Runs, newest first, optionally of one agent; the JSON documents stay JSON text.
SELECT
    run_id, conversation_id, kind, parent_run_id, schedule_id, status, status_reason,
    agent_uuid, agent_name, window_start, window_end, model_id, no_llm, span_limit,
    created_at, started_at, finished_at, snapshot_spans, snapshot_traces, window_spans,
    window_traces, snapshot_truncated, llm_ran, degraded, llm_cost_usd,
    json_array_length(findings) AS finding_count, report_path
FROM runs
WHERE ($agent_uuid IS NULL OR agent_uuid = $agent_uuid)
ORDER BY created_at DESC, run_id;
