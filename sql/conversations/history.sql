-- A conversation's messages in order, without those of the run $run_id (the follow-up being answered).
SELECT role, content FROM messages
WHERE conversation_id = $conversation_id AND coalesce(run_id, '') <> $run_id ORDER BY seq
