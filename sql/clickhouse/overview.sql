-- The window-wide overview of one agent (every span of the window, not the capped snapshot), in one
-- query so the cluster types and walks the window once: the totals of sql/overview/totals.sql and,
-- as arrays of tuples, the rows of sql/overview/models.sql, tools.sql and failures.sql. Exact
-- percentiles: quantileExactInclusive is DuckDB's quantile_cont.
WITH
{% include "clickhouse/_agent_spans.sql" %},
per_trace AS (
    SELECT trace_id, (max(end_ns) - min(start_ns)) / 1e6 AS duration_ms, max(status_code = 'error') AS failed
    FROM agent_window
    GROUP BY trace_id
),
trace_stats AS (
    SELECT
        count()                                         AS traces,
        countIf(failed = 1)                             AS error_traces,
        quantileExactInclusiveOrNull(0.5)(duration_ms)  AS p50_trace_ms,
        quantileExactInclusiveOrNull(0.95)(duration_ms) AS p95_trace_ms,
        maxOrNull(duration_ms)                          AS max_trace_ms
    FROM per_trace
),
span_stats AS (
    SELECT
        count()                                         AS spans,
        countIf(status_code = 'error')                  AS error_spans,
        countIf(type = 'llm')                           AS llm_calls,
        countIf(type = 'tool')                          AS tool_calls,
        sumIf(ifNull(input_tokens, 0), counts_usage)    AS input_tokens,
        sumIf(ifNull(output_tokens, 0), counts_usage)   AS output_tokens,
        minOrNull(start_ns)                             AS first_start_ns,
        maxOrNull(end_ns)                               AS last_end_ns
    FROM agent_window
),
model_rows AS (
    SELECT
        ifNull(model_name, '(unknown model)')           AS model,
        count()                                         AS calls,
        sum(ifNull(input_tokens, 0))                    AS input_tokens,
        sum(ifNull(output_tokens, 0))                   AS output_tokens,
        sum(ifNull(cache_read_tokens, 0))               AS cache_read_tokens
    FROM agent_window
    WHERE counts_usage AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL OR cost_usd IS NOT NULL)
    GROUP BY model
    ORDER BY calls DESC, model
    LIMIT {row_limit:UInt32}
),
tool_rows AS (
    SELECT
        if(position(lower(scope_name), 'beeai') > 0, replaceRegexpOne(ifNull(tool_called, name), '-[0-9]+$', ''),
           ifNull(tool_called, name))                   AS tool,
        count()                                         AS calls,
        uniqExact(trace_id)                             AS traces,
        countIf(status_code = 'error')                  AS errors,
        quantileExactInclusive(0.5)((end_ns - start_ns) / 1e6)  AS p50_ms,
        quantileExactInclusive(0.95)((end_ns - start_ns) / 1e6) AS p95_ms
    FROM agent_window
    WHERE type = 'tool'
    GROUP BY tool
    ORDER BY calls DESC, tool
    LIMIT {row_limit:UInt32}
),
failure_rows AS (
    SELECT
        ifNull(tool_called, name)                       AS subject,
        type                                            AS span_type,
        count()                                         AS spans,
        uniqExact(trace_id)                             AS traces
    FROM agent_window
    WHERE status_code = 'error'
    GROUP BY subject, span_type
    ORDER BY spans DESC, subject, span_type
    LIMIT {row_limit:UInt32}
)
SELECT
    trace_stats.*,
    span_stats.*,
    (SELECT groupArray((model, calls, input_tokens, output_tokens, cache_read_tokens)) FROM model_rows) AS models,
    (SELECT groupArray((tool, calls, traces, errors, p50_ms, p95_ms)) FROM tool_rows)                  AS tools,
    (SELECT groupArray((subject, span_type, spans, traces)) FROM failure_rows)                         AS failures
FROM trace_stats, span_stats
