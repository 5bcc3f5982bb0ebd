-- A run's trace dataset: the kept spans of the agent's window, with secrets in every text and JSON
-- column redacted (the column list: spans/_redaction.sql), columns exactly those of `spans` (but its
-- secret verdict), then `declared_agent`: the agent each span declares for itself, else its stored
-- agent, from its redacted attributes (spans/_declared_agent.sql). The detectors read it instead of
-- every span's attributes, which this query reads anyway to copy them.
-- Which spans are kept ($kept, from halo_snapshot_traces):
--   'window': every span of the window (the span limit cuts nothing);
--   'traces': the spans of the traces whose running span count stays within $span_limit;
--   'keys':   the spans listed in halo_snapshot_keys (the first trace alone exceeds the limit).
-- $comparison_only: the previous window, with only the columns the detectors' comparisons read of it
-- (heuristics/_previous.sql), its texts redacted alike (but a span stored clean under the current rules:
-- spans/_redaction.sql): the whole rows cost as much as the window's.
-- Rows come in no set order: the detectors and the report order what they show by their own keys.
-- Sorting the full rows cost a third of a 1M-span snapshot (spilling under the store's memory limit,
-- or chunk by chunk on one thread). Each thread writes its own row groups, unordered (keeping an order
-- holds each thread's rows until their turn: ~1 GB spilled at 1M spans whose texts differ), and small:
-- 20,000 rows, at most 32 MB, so that two of them fit in the store's memory limit whatever the rows
-- hold (DuckDB's 122,880-row groups spilled ~3 GB of those spans). Written to $path (a partial file).
{% from "spans/_redaction.sql" import redacted_spans -%}
{% from "spans/_declared_agent.sql" import declared_agent -%}
COPY (
WITH picked AS (
    SELECT spans.*
    FROM spans
{%- if kept == "traces" %}
    SEMI JOIN (
        SELECT trace_id FROM halo_snapshot_traces WHERE running_spans <= $span_limit
    ) AS kept USING (trace_id)
{%- elif kept == "keys" %}
    SEMI JOIN halo_snapshot_keys AS kept USING (trace_id, span_id, start_ns)
{%- endif %}
    WHERE spans.agent_uuid = $agent_uuid
      AND spans.start_time >= $window_start
      AND spans.start_time < $window_end
)
{%- if comparison_only %}
SELECT
    agent_uuid, trace_id, span_id, span_type, status_code, duration_ms, counts_usage, cost_usd,
{%- for column in ["name", "tool_name", "model", "scope_name"] %}
    CASE WHEN secret_free_under_rules = $secret_rules THEN {{ column }} ELSE redact_secrets({{ column }}) END
        AS {{ column }}{{ "," if not loop.last }}
{%- endfor %}
FROM picked
{%- else %},
prepared AS (
{{ redacted_spans("picked") }}
)
SELECT *, {{ declared_agent("attributes", "agent_name") }} AS declared_agent
FROM prepared
{%- endif %}
) TO $path (FORMAT parquet, PRESERVE_ORDER false, ROW_GROUP_SIZE 20000, ROW_GROUP_SIZE_BYTES '32MB')
