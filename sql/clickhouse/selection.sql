-- A run's window selection over the cluster, as runs/snapshot.sql selects locally: the agent's
-- spans in the window, whole traces, traces with an error first, then the newest, while the running
-- span count stays within $span_limit (the first trace always kept, cut to the limit). Returns the
-- selected spans' exported columns, which halo-local normalizes like a loaded file (raw_spans).
WITH
{% include "clickhouse/_agent_spans.sql" %},
per_trace AS (
    SELECT trace_id, count() AS span_count, max(status_code = 'error') AS has_error, max(start_ns) AS last_start_ns
    FROM agent_window
    GROUP BY trace_id
),
ranked AS (
    SELECT
        trace_id,
        row_number() OVER picked AS trace_rank,
        sum(span_count) OVER (picked ROWS UNBOUNDED PRECEDING) AS running_spans
    FROM per_trace
    WINDOW picked AS (ORDER BY has_error DESC, last_start_ns DESC, trace_id)
),
picked AS (
    SELECT trace_id, span_id
    FROM agent_window
    WHERE trace_id IN (SELECT trace_id FROM ranked WHERE running_spans <= {span_limit:UInt64} OR trace_rank = 1)
    ORDER BY start_ns, trace_id, span_id
    LIMIT {span_limit:UInt64}
)
{% include "clickhouse/_span_columns.sql" %}FROM {{ table }}
WHERE TraceId IN (SELECT trace_id FROM picked)
  AND (TraceId, SpanId) IN (SELECT trace_id, span_id FROM picked)
ORDER BY start_ns, trace_id, span_id
