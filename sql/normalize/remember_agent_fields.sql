-- The agent-name fields of the spans being stored whose traces are left to derive_trace_columns
-- (normalize_row_agents), kept for it (same connection, agent_fields_table.sql) so that it re-reads
-- attributes only for spans stored otherwise.
INSERT INTO normalize_agent_fields
SELECT trace_id, span_id, declared_agent, agent_span_label
FROM normalize_row_agents;
