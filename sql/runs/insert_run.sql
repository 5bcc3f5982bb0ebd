-- A new run, queued: its options are fixed here and never change.
INSERT INTO runs (
    run_id, conversation_id, kind, parent_run_id, schedule_id, status, agent_uuid, agent_name, prompt,
    window_start, window_end, model_id, no_llm, span_limit, max_subagent_depth, max_turns,
    time_limit_seconds, thresholds, created_at, llm_skip_reason, snapshot_path, source
) VALUES (
    $run_id, $conversation_id, $kind, $parent_run_id, $schedule_id, 'queued', $agent_uuid, $agent_name,
    $prompt, $window_start, $window_end, $model_id, $no_llm, $span_limit, $max_subagent_depth, $max_turns,
    $time_limit_seconds, $thresholds, $created_at, $llm_skip_reason, $snapshot_path, $source
);
