-- Record how the LLM pass went: its token use and cost, or why it failed (degraded run).
UPDATE runs
SET llm_ran = $llm_ran,
    degraded = $degraded,
    llm_error = $llm_error,
    llm_input_tokens = $input_tokens,
    llm_output_tokens = $output_tokens,
    llm_cache_read_tokens = $cache_read_tokens,
    llm_cache_write_tokens = $cache_write_tokens,
    llm_cost_usd = $cost_usd,
    llm_turns = $turns,
    llm_invented_ids_removed = $invented_ids_removed,
    llm_result = $llm_result
WHERE run_id = $run_id;
