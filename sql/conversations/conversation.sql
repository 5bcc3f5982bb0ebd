-- One conversation's row.
SELECT * FROM conversations WHERE conversation_id = $conversation_id
