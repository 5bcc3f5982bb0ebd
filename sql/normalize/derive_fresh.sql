-- derive_input.sql's derive_spans for the traces of this chunk whose agents, usage and cost can be
-- derived before they are stored (derived_columns.sql; normalized_rows.sql writes them with the insert):
-- the store holds no span of the trace yet (normalize_stored_traces), every new span of it is in this
-- chunk, and none of them is a usage wrapper or the inner span of one, whose usage rule looks across
-- traces in the store. The other traces are left to derive_trace_columns after the file, which sees
-- every stored span of them.
CREATE OR REPLACE TEMP TABLE derive_spans AS
WITH left_for_later AS (
    SELECT trace_id FROM normalize_stored_traces
    UNION
    SELECT trace_id FROM normalize_new
    WHERE span_key NOT BETWEEN getvariable('normalize_chunk_first') AND getvariable('normalize_chunk_last')
    UNION
    SELECT typed.trace_id
    FROM normalize_typed AS typed
    JOIN usage_wrappers AS pair ON typed.name IN (pair.wrapper_name, pair.inner_name)
)
SELECT typed.* EXCLUDE (declared_agent, agent_span_label)
FROM normalize_typed AS typed
WHERE NOT EXISTS (SELECT 1 FROM left_for_later AS later WHERE later.trace_id = typed.trace_id);
