-- A run's trace dataset: the agent's spans in [$window_start, $window_end), whole traces only,
-- traces with an error first, then the newest, while the running span count stays within
-- $span_limit. The first trace is always kept (cut to the limit if it alone exceeds it), so a
-- window with spans never yields an empty snapshot. Columns are exactly those of `spans`, with
-- secrets in every text and JSON column redacted (the column list: spans/_redaction.sql).
-- The rows are redacted before they are sorted, and sorted once: the redaction is most of the
-- cost, and below the sort it runs on every thread (above a sort and its limit it ran on one, and
-- the full rows were sorted twice).
{% from "spans/_redaction.sql" import redacted_spans -%}
WITH in_window AS (
    SELECT *
    FROM spans
    WHERE agent_uuid = $agent_uuid
      AND start_time >= $window_start
      AND start_time < $window_end
),
per_trace AS (
    SELECT
        trace_id,
        count(*)                          AS span_count,
        bool_or(status_code = 'error')    AS has_error,
        max(start_ns)                     AS last_start_ns
    FROM in_window
    GROUP BY trace_id
),
ranked AS (
    SELECT
        trace_id,
        row_number() OVER picked                          AS trace_rank,
        sum(span_count) OVER (picked ROWS UNBOUNDED PRECEDING) AS running_spans
    FROM per_trace
    WINDOW picked AS (ORDER BY has_error DESC, last_start_ns DESC, trace_id)
),
kept AS (
    SELECT trace_id FROM ranked WHERE running_spans <= $span_limit OR trace_rank = 1
),
picked AS (
    SELECT in_window.*
    FROM in_window
    JOIN kept USING (trace_id)
),
prepared AS (
{{ redacted_spans("picked") }}
)
SELECT *
FROM prepared
ORDER BY start_ns, trace_id, span_id
LIMIT $span_limit;
