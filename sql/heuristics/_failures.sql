-- Shared set-up (files starting with "_" are not detectors), run after _prepare.sql: the failures.
-- A window without a failing span gets an empty table of the same shape instead (analysis.py).
-- Statements are separated by a semicolon at the end of a line.

-- Every failure as reported: spans with status error, and tool results that report failure as
-- data. A failing ancestor whose error repeats a failing descendant's (same error type or
-- signature, a message that quotes it, or no error detail of its own) only propagates it:
-- propagated failures point at their root causes and are not reported again; a root cause "fails
-- its trace" when it is the failing top span or a failing top span only propagates it.
-- One statement: the failing spans and their ancestor pairs are CTEs, not tables of their own.
CREATE OR REPLACE TEMP TABLE halo_h_failures AS
WITH RECURSIVE failing_spans AS (
    SELECT
        trace_id, span_id, span_key, parent_key, name, span_type, subject, tool_name, is_top,
        start_ns, end_ns, start_time, end_time, duration_ms, error_type, status_message, result_head,
        result_rest, arguments_code, arguments_head,
        CASE WHEN counts_usage THEN cost_usd END                                AS cost_usd,
        CASE WHEN is_error THEN 'status' ELSE 'result' END                      AS source,
        CASE WHEN is_error THEN error_text ELSE split_part(result_head, chr(10), 1) END AS message,
        CASE WHEN is_error THEN error_text ELSE result_head END                 AS kind_text
    FROM halo_h_spans
    WHERE is_failure
),
masks AS (
    -- Masks and kinds are regular expressions over the text: they run once per distinct text.
    SELECT message, halo_h_mask(message) AS masked
    FROM (SELECT DISTINCT message FROM failing_spans)
),
kinds AS (
    SELECT error_type, kind_text, status_message,
           halo_h_failure_kind(error_type, kind_text, status_message) AS kind
    FROM (SELECT DISTINCT error_type, kind_text, status_message FROM failing_spans)
),
failing AS MATERIALIZED (
    SELECT
        failing_spans.* EXCLUDE (status_message, kind_text),
        kinds.kind,
        CASE WHEN starts_with(masks.masked, coalesce(failing_spans.error_type, chr(0))) THEN masks.masked
             ELSE concat_ws(': ', failing_spans.error_type, nullif(masks.masked, '')) END AS signature
    FROM failing_spans
    JOIN masks ON masks.message IS NOT DISTINCT FROM failing_spans.message
    JOIN kinds
      ON kinds.error_type IS NOT DISTINCT FROM failing_spans.error_type
     AND kinds.kind_text IS NOT DISTINCT FROM failing_spans.kind_text
     AND kinds.status_message IS NOT DISTINCT FROM failing_spans.status_message
),
parent_links AS MATERIALIZED (
    -- Ancestors are walked up through the parent links of the traces with such failures only.
    SELECT span_key, parent_key
    FROM halo_h_spans
    WHERE parent_key IS NOT NULL
      AND trace_id IN (SELECT trace_id FROM failing WHERE source = 'status' AND parent_key IS NOT NULL)
),
up(cause_key, ancestor_key, depth) AS (
    SELECT span_key, parent_key, 1
    FROM failing
    WHERE source = 'status' AND parent_key IS NOT NULL
    UNION ALL
    SELECT up.cause_key, parent_links.parent_key, up.depth + 1
    FROM up
    JOIN parent_links ON parent_links.span_key = up.ancestor_key
    WHERE up.depth < 100
),
error_pairs AS (
    -- (failing ancestor, failing descendant) pairs where the ancestor's error repeats the descendant's.
    SELECT DISTINCT
        ancestor.trace_id,
        ancestor.span_id AS ancestor_span_id,
        cause.span_id    AS cause_span_id
    FROM up
    JOIN failing AS ancestor ON ancestor.span_key = up.ancestor_key AND ancestor.source = 'status'
    JOIN failing AS cause ON cause.span_key = up.cause_key AND cause.trace_id = ancestor.trace_id
    WHERE (ancestor.error_type IS NULL AND ancestor.message = '')
       OR lower(ancestor.error_type) = lower(cause.error_type)
       OR ancestor.signature = cause.signature
       OR (cause.error_type IS NOT NULL AND contains(ancestor.message, cause.error_type))
       OR (length(cause.message) >= 8 AND contains(ancestor.message, left(cause.message, 100)))
),
propagated AS (
    SELECT DISTINCT trace_id, ancestor_span_id AS span_id FROM error_pairs
),
root_links AS (
    SELECT pairs.trace_id, pairs.ancestor_span_id, pairs.cause_span_id
    FROM error_pairs AS pairs
    ANTI JOIN propagated
           ON propagated.trace_id = pairs.trace_id AND propagated.span_id = pairs.cause_span_id
),
links_per_cause AS (
    SELECT
        links.trace_id,
        links.cause_span_id                                      AS span_id,
        list(DISTINCT ancestor.name ORDER BY ancestor.name)      AS propagated_to,
        bool_or(ancestor.is_top)                                 AS fails_trace
    FROM root_links AS links
    JOIN failing AS ancestor
      ON ancestor.trace_id = links.trace_id AND ancestor.span_id = links.ancestor_span_id
    GROUP BY ALL
)
SELECT
    failing.*,
    propagated.span_id IS NOT NULL                                         AS propagated,
    coalesce(links.propagated_to, [])                                      AS propagated_to,
    failing.source = 'status' AND propagated.span_id IS NULL
        AND (failing.is_top OR coalesce(links.fails_trace, FALSE))         AS fails_trace
FROM failing
LEFT JOIN propagated
       ON propagated.trace_id = failing.trace_id AND propagated.span_id = failing.span_id
LEFT JOIN links_per_cause AS links
       ON links.trace_id = failing.trace_id AND links.span_id = failing.span_id;
