-- Append one message to a conversation; seq orders the conversation's messages 1, 2, ...
INSERT INTO messages (conversation_id, seq, role, content, run_id, created_at)
SELECT $conversation_id, coalesce(max(seq), 0) + 1, $role, $content, $run_id, $created_at
FROM messages
WHERE conversation_id = $conversation_id;
