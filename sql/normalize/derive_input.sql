-- The stored spans of the traces being derived ($trace_ids): the columns derivation reads, numbered
-- for the extraction of agent names.
CREATE OR REPLACE TEMP TABLE derive_spans AS
SELECT
    row_number() OVER (ORDER BY trace_id, span_id) AS span_key,
    trace_id, span_id, parent_span_id, start_ns, start_time, service_name, span_type, provider, model,
    input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_usd, cost_source
FROM spans
WHERE trace_id IN (SELECT DISTINCT unnest(CAST($trace_ids AS VARCHAR[])));
