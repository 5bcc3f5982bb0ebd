-- The newest conversation, of one agent when $agent_uuid is not null (`conversation get --latest --agent X`).
SELECT conversation_id
FROM conversations
WHERE $agent_uuid IS NULL OR agent_uuid = $agent_uuid
ORDER BY created_at DESC, conversation_id DESC
LIMIT 1;
