-- A conversation changed at $at (a message was added).
UPDATE conversations SET updated_at = $at WHERE conversation_id = $conversation_id
