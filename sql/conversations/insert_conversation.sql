-- A new conversation; its first assistant message will be the report of the run that created it.
INSERT INTO conversations (conversation_id, title, agent_uuid, agent_name, created_at, updated_at)
VALUES ($conversation_id, $title, $agent_uuid, $agent_name, $created_at, $created_at);
