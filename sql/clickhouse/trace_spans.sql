-- Every span of one trace ($trace_id), or of the trace(s) holding span $span_id, for `trace get` and
-- `span get --source`: whole traces, so halo-local derives agents and usage as for a loaded file.
{% include "clickhouse/_span_columns.sql" %}
FROM {{ table }}
WHERE TraceId IN (
    SELECT DISTINCT TraceId
    FROM {{ table }}
    WHERE ({trace_id:Nullable(String)} IS NULL OR TraceId = {trace_id:Nullable(String)})
      AND ({span_id:Nullable(String)} IS NULL OR SpanId = {span_id:Nullable(String)})
)
ORDER BY start_ns, trace_id, span_id
LIMIT {span_limit:UInt64}
