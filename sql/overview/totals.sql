-- The overview's totals of one agent's window (see overview/_window.sql for which rows): traces,
-- spans, errors, usage and cost, exact trace latency percentiles. clickhouse/overview.sql counts the
-- same in the cluster (quantile_cont there is quantileExactInclusive). A trace's latency is the
-- extent of the agent's spans in it; usage and cost count only rows with counts_usage, and unpriced
-- calls are counted, never priced at 0.
WITH {% include "overview/_window.sql" %},
per_trace AS (
    SELECT trace_id, (max(last_ns) - min(start_ns)) / 1e6 AS duration_ms, bool_or(status_code = 'error') AS failed
    FROM agent_window
    GROUP BY trace_id
),
trace_stats AS (
    SELECT
        count(*)                          AS traces,
        count(*) FILTER (WHERE failed)    AS error_traces,
        quantile_cont(duration_ms, 0.5)   AS p50_trace_ms,
        quantile_cont(duration_ms, 0.95)  AS p95_trace_ms,
        max(duration_ms)                  AS max_trace_ms
    FROM per_trace
),
span_stats AS (
    SELECT
        count(*)                                                           AS spans,
        count(*) FILTER (WHERE status_code = 'error')                      AS error_spans,
        count(*) FILTER (WHERE span_type = 'llm')                          AS llm_calls,
        count(*) FILTER (WHERE span_type = 'tool')                         AS tool_calls,
        coalesce(sum(input_tokens) FILTER (WHERE counts_usage), 0)         AS input_tokens,
        coalesce(sum(output_tokens) FILTER (WHERE counts_usage), 0)        AS output_tokens,
        sum(cost_usd) FILTER (WHERE counts_usage)                          AS cost_usd,
        count(*) FILTER (WHERE counts_usage AND cost_source = 'unpriced')  AS unpriced_spans,
        coalesce(list(DISTINCT model ORDER BY model) FILTER (WHERE model IS NOT NULL
            AND counts_usage AND cost_source = 'unpriced'), [])            AS unpriced_models,
        min(start_ns)                                                      AS first_start_ns,
        max(last_ns)                                                       AS last_end_ns
    FROM agent_window
)
SELECT * FROM trace_stats, span_stats;
