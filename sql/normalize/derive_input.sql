-- The stored spans of the traces being derived ($trace_ids), and of the traces whose wrapper spans
-- (usage_wrappers) an inner span of them starts within: those wrappers' counts_usage depends on it.
-- The columns derivation reads, numbered for the extraction of agent names.
CREATE OR REPLACE TEMP TABLE derive_spans AS
WITH asked AS (
    SELECT DISTINCT unnest(CAST($trace_ids AS VARCHAR[])) AS trace_id
),
wrapping AS (
    SELECT DISTINCT wrapper.trace_id
    FROM spans AS inner_span
    JOIN usage_wrappers AS pair ON pair.inner_name = inner_span.name
    JOIN spans AS wrapper
      ON wrapper.name = pair.wrapper_name
     AND wrapper.service_name IS NOT DISTINCT FROM inner_span.service_name
     AND inner_span.start_ns BETWEEN wrapper.start_ns AND wrapper.end_ns
    WHERE inner_span.trace_id IN (SELECT trace_id FROM asked)
)
SELECT
    row_number() OVER (ORDER BY trace_id, span_id) AS span_key,
    trace_id, span_id, parent_span_id, name, start_ns, end_ns, start_time, service_name, span_type, provider,
    model, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_usd, cost_source
FROM spans
WHERE trace_id IN (SELECT trace_id FROM asked UNION SELECT trace_id FROM wrapping);
