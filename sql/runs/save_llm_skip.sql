-- Why the LLM pass did not run, as decided when the run executed (the key may have changed since it was queued).
UPDATE runs SET llm_skip_reason = $reason WHERE run_id = $run_id
