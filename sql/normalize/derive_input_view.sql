-- extract_fields.sql reads normalize_input: here the derived spans whose agent-name fields were not
-- kept by the inserts of this load (normalize_agent_fields: spans stored otherwise).
CREATE OR REPLACE TEMP VIEW normalize_input AS
SELECT derived.span_key, spans.name, spans.status_code, spans.status_message, spans.attributes,
       CAST(NULL AS JSON) AS events
FROM derive_spans AS derived
JOIN spans USING (trace_id, span_id)
WHERE NOT EXISTS (
    SELECT 1 FROM normalize_agent_fields AS known
    WHERE known.trace_id = derived.trace_id AND known.span_id = derived.span_id
);
