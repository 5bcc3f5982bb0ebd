-- A run's window selection over the cluster, by runs/snapshot.sql's rules: the agent's spans in the
-- window, whole traces, traces with an error first, then the newest, while the running span count
-- stays within $span_limit (the first trace always kept, cut to the limit). With $previous_end_us
-- set, [window start, previous_end_us) is the previous window (for "what changed"), selected by the
-- same rules on its own, in the same walk. Returns the selected spans' exported columns, which
-- halo-local normalizes like a loaded file (raw_spans). agent_window is referenced once: ClickHouse
-- analyses a CTE again at every reference.
WITH
{% include "clickhouse/_agent_spans.sql" %},
per_span AS (
    SELECT
        trace_id, span_id, start_ns,
        ifNull(start_ns < {previous_end_us:Nullable(Int64)} * 1000, false)  AS earlier,
        max(status_code = 'error') OVER (PARTITION BY earlier, trace_id)     AS has_error,
        max(start_ns) OVER (PARTITION BY earlier, trace_id)                  AS last_start_ns
    FROM agent_window
),
ranked AS (
    SELECT
        trace_id, span_id, start_ns, earlier,
        dense_rank() OVER picked                                             AS trace_rank,
        -- every span of the traces up to this one (a trace's spans are peers of one another)
        count() OVER (picked RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running_spans
    FROM per_span
    WINDOW picked AS (PARTITION BY earlier ORDER BY has_error DESC, last_start_ns DESC, trace_id)
),
picked AS (
    SELECT trace_id, span_id
    FROM ranked
    WHERE running_spans <= {span_limit:UInt64} OR trace_rank = 1
    ORDER BY earlier, start_ns, trace_id, span_id
    LIMIT {span_limit:UInt64} BY earlier
)
{% include "clickhouse/_span_columns.sql" %}FROM {{ table }}
WHERE ({window_start_us:Nullable(Int64)} IS NULL
       OR Timestamp >= fromUnixTimestamp64Micro(assumeNotNull({window_start_us:Nullable(Int64)}), 'UTC'))
  AND ({window_end_us:Nullable(Int64)} IS NULL
       OR Timestamp < fromUnixTimestamp64Micro(assumeNotNull({window_end_us:Nullable(Int64)}), 'UTC'))
  AND (TraceId, SpanId) IN (SELECT trace_id, span_id FROM picked)
ORDER BY start_ns, trace_id, span_id
