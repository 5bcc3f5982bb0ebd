-- A run's trace dataset: the agent's spans in [$window_start, $window_end), whole traces only,
-- traces with an error first, then the newest, while the running span count stays within
-- $span_limit. The first trace is always kept (cut to the limit if it alone exceeds it), so a
-- window with spans never yields an empty snapshot. Columns are exactly those of `spans`, with
-- secrets in every text and JSON column redacted by `redact_secrets` (halo_local/llm/redact.py's
-- sql_macro), so no query over the snapshot (upper(), reverse(), ...) can reshape a secret past
-- the redaction. A JSON value the redaction made invalid is kept as a JSON string.
-- The rows are redacted before they are sorted, and sorted once: the redaction is most of the
-- cost, and below the sort it runs on every thread (above a sort and its limit it ran on one, and
-- the full rows were sorted twice).
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
redacted AS (
    SELECT in_window.* REPLACE (
        redact_secrets(name)                         AS name,
        redact_secrets(status_message)               AS status_message,
        redact_secrets(service_name)                 AS service_name,
        redact_secrets(agent_name)                   AS agent_name,
        redact_secrets(session_id)                   AS session_id,
        redact_secrets(model)                        AS model,
        redact_secrets(tool_name)                    AS tool_name,
        redact_secrets(tool_arguments)               AS tool_arguments,
        redact_secrets(tool_result)                  AS tool_result,
        list_transform(declared_tools, lambda tool: redact_secrets(tool)) AS declared_tools,
        redact_secrets(finish_reason)                AS finish_reason,
        redact_secrets(error_type)                   AS error_type,
        redact_secrets(error_message)                AS error_message,
        redact_secrets(input_text)                   AS input_text,
        redact_secrets(output_text)                  AS output_text,
        redact_secrets(scope_name)                   AS scope_name,
        redact_secrets(scope_version)                AS scope_version,
        redact_secrets(attributes::VARCHAR)          AS attributes,
        redact_secrets(resource_attributes::VARCHAR) AS resource_attributes,
        redact_secrets(events::VARCHAR)              AS events,
        redact_secrets(links::VARCHAR)               AS links,
        redact_secrets(source_file)                  AS source_file
    )
    FROM in_window
    JOIN kept USING (trace_id)
),
prepared AS (
    SELECT * REPLACE (
        coalesce(try_cast(attributes AS JSON), to_json(attributes))                   AS attributes,
        coalesce(try_cast(resource_attributes AS JSON), to_json(resource_attributes)) AS resource_attributes,
        coalesce(try_cast(events AS JSON), to_json(events))                           AS events,
        coalesce(try_cast(links AS JSON), to_json(links))                             AS links
    )
    FROM redacted
)
SELECT *
FROM prepared
ORDER BY start_ns, trace_id, span_id
LIMIT $span_limit;
