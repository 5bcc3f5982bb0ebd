-- The agent-name fields of spans stored by this load (remember_agent_fields.sql), which
-- derive_trace_columns reads instead of extracting them again from the stored attributes.
CREATE TEMP TABLE IF NOT EXISTS normalize_agent_fields (
    trace_id         VARCHAR,
    span_id          VARCHAR,
    declared_agent   VARCHAR,
    agent_span_label VARCHAR
);
