-- The agent-name fields of the spans being stored (normalize_row_agents: those columns of
-- normalize_rows), kept for derive_trace_columns (same connection) so that it re-reads attributes only
-- for spans stored by earlier loads.
CREATE TEMP TABLE IF NOT EXISTS normalize_agent_fields (
    trace_id         VARCHAR,
    span_id          VARCHAR,
    declared_agent   VARCHAR,
    agent_span_label VARCHAR
);
INSERT INTO normalize_agent_fields
SELECT trace_id, span_id, declared_agent, agent_span_label
FROM normalize_row_agents;
