-- Conversations newest first, with their message count and the status of their analysis run.
SELECT
    c.conversation_id,
    c.title,
    c.agent_uuid,
    c.agent_name,
    c.created_at,
    c.updated_at,
    (SELECT count(*) FROM messages m WHERE m.conversation_id = c.conversation_id)  AS message_count,
    a.run_id                                                                        AS run_id,
    a.status                                                                        AS status
FROM conversations c
LEFT JOIN runs a ON a.conversation_id = c.conversation_id AND a.kind = 'analysis'
ORDER BY c.created_at DESC, c.conversation_id DESC
LIMIT $row_limit;
