-- The last assistant message a run added (its answer).
SELECT content FROM messages WHERE run_id = $run_id AND role = 'assistant' ORDER BY seq DESC LIMIT 1
