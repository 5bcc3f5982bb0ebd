-- The spans of the newest $trace_limit traces with a span since $window_start_us (NULL: all time),
-- only failing ones when $errors_only, of one agent when rendered with `agent` (the agent walk of
-- _agent_spans.sql): what `trace list --source` shows, fetched whole so halo-local summarizes them
-- as stored traces.
WITH
{%- if agent %}
{% include "clickhouse/_agent_spans.sql" %},
newest AS (
    SELECT trace_id
    FROM agent_window
    GROUP BY trace_id
    HAVING NOT {errors_only:Bool} OR max(status_code = 'error')
    ORDER BY max(start_ns) DESC, trace_id
    LIMIT {trace_limit:UInt64}
)
{%- else %}
newest AS (
    SELECT TraceId AS trace_id
    FROM {{ table }}
    WHERE {window_start_us:Nullable(Int64)} IS NULL
       OR Timestamp >= fromUnixTimestamp64Micro(assumeNotNull({window_start_us:Nullable(Int64)}), 'UTC')
    GROUP BY TraceId
    HAVING NOT {errors_only:Bool} OR max(replaceRegexpOne(lower(StatusCode), '^status_code_', '') = 'error')
    ORDER BY max(Timestamp) DESC, trace_id
    LIMIT {trace_limit:UInt64}
)
{%- endif %}
{% include "clickhouse/_span_columns.sql" %}
FROM {{ table }}
WHERE TraceId IN (SELECT trace_id FROM newest)
ORDER BY start_ns, trace_id, span_id
LIMIT {span_limit:UInt64}
