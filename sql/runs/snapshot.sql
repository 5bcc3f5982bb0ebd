-- One chunk of a run's trace dataset: the kept spans (runs/snapshot_keys.sql) that start in
-- [$chunk_start, $chunk_end), in start order. Columns are exactly those of `spans`, with secrets in
-- every text and JSON column redacted (the column list: spans/_redaction.sql). The rows are redacted
-- before they are sorted (below the sort the redaction runs on every thread); a chunk's rows are
-- sorted in memory, where the whole window's full rows spilled under the store's memory limit.
-- The start range is also a filter on `spans` itself, so a chunk reads only the row groups whose
-- starts it may hold.
{% from "spans/_redaction.sql" import redacted_spans -%}
WITH picked AS (
    SELECT spans.*
    FROM spans
    SEMI JOIN (
        SELECT trace_id, span_id, start_ns
        FROM halo_snapshot_keys
        WHERE start_ns >= $chunk_start AND start_ns < $chunk_end
    ) AS kept USING (trace_id, span_id, start_ns)
    WHERE spans.agent_uuid = $agent_uuid
      AND spans.start_time >= $window_start
      AND spans.start_time < $window_end
      AND spans.start_ns >= $chunk_start
      AND spans.start_ns < $chunk_end
),
prepared AS (
{{ redacted_spans("picked") }}
)
SELECT *
FROM prepared
ORDER BY start_ns, trace_id, span_id;
