-- A conversation's messages in order.
SELECT seq, role, content, run_id, created_at FROM messages
WHERE conversation_id = $conversation_id ORDER BY seq
