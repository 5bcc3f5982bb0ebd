-- The report's "What was analysed" numbers over a run's snapshot (view `window_spans`).
-- A trace's latency is the extent of the agent's spans in it (first start to last end); usage and
-- cost count only rows with counts_usage, and unpriced calls are counted, never priced at 0.
WITH per_trace AS (
    SELECT
        trace_id,
        (max(coalesce(end_ns, start_ns)) - min(start_ns)) / 1e6 AS duration_ms,
        bool_or(status_code = 'error')                       AS failed
    FROM window_spans
    GROUP BY trace_id
),
trace_stats AS (
    SELECT
        count(*)                                  AS traces,
        count(*) FILTER (WHERE failed)            AS error_traces,
        quantile_cont(duration_ms, 0.5)           AS p50_trace_ms,
        quantile_cont(duration_ms, 0.95)          AS p95_trace_ms,
        max(duration_ms)                          AS max_trace_ms
    FROM per_trace
),
span_stats AS (
    SELECT
        count(*)                                                           AS spans,
        count(*) FILTER (WHERE status_code = 'error')                      AS error_spans,
        count(*) FILTER (WHERE span_type = 'llm')                          AS llm_calls,
        count(*) FILTER (WHERE span_type = 'tool')                         AS tool_calls,
        sum(input_tokens) FILTER (WHERE counts_usage)                      AS input_tokens,
        sum(output_tokens) FILTER (WHERE counts_usage)                     AS output_tokens,
        sum(cost_usd) FILTER (WHERE counts_usage)                          AS cost_usd,
        count(*) FILTER (WHERE counts_usage AND cost_source = 'unpriced')  AS unpriced_spans,
        list(DISTINCT model ORDER BY model) FILTER (WHERE model IS NOT NULL
            AND counts_usage AND cost_source = 'unpriced')                 AS unpriced_models,
        min(start_time)                                                    AS first_span_at,
        max(coalesce(end_time, start_time))                                AS last_span_at
    FROM window_spans
)
SELECT * FROM trace_stats, span_stats;
