-- The analysis run a conversation started with (its follow-ups ask about that run's report), its
-- findings whole (runs/_stored_findings.sql), read back once the run is chosen.
{% from "runs/_stored_findings.sql" import stored_findings -%}
WITH analysis_run AS (
    SELECT * FROM runs WHERE conversation_id = $conversation_id AND kind = 'analysis' ORDER BY created_at LIMIT 1
)
SELECT * REPLACE ({{ stored_findings("analysis_run") }} AS findings) FROM analysis_run
