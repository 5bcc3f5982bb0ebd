-- The agent-name fields of the spans just inserted, kept for derive_trace_columns (same connection) so
-- that it re-reads attributes only for spans stored by earlier loads.
CREATE TEMP TABLE IF NOT EXISTS normalize_agent_fields (
    trace_id         VARCHAR,
    span_id          VARCHAR,
    declared_agent   VARCHAR,
    agent_span_label VARCHAR
);
INSERT INTO normalize_agent_fields
SELECT new.trace_id, new.span_id, fields.declared_agent, fields.agent_span_label
FROM normalize_new AS new
JOIN normalize_fields AS fields USING (span_key);
