-- The analysis run a conversation started with (its follow-ups ask about that run's report).
SELECT * FROM runs WHERE conversation_id = $conversation_id AND kind = 'analysis' ORDER BY created_at LIMIT 1
