-- The agent-name fields of this chunk's new spans whose traces derive_fresh.sql left to
-- derive_trace_columns (remember_agent_fields.sql keeps them for it).
SELECT typed.trace_id, typed.span_id, typed.declared_agent, typed.agent_span_label
FROM normalize_typed AS typed
WHERE NOT EXISTS (SELECT 1 FROM derive_spans AS derived WHERE derived.span_key = typed.span_key);
