-- counts_usage: FALSE for a span carrying usage (tokens, or a cost given on it) when one of its
-- descendants carries usage too — its numbers aggregate theirs. The walk goes up the parent links;
-- UNION (not UNION ALL) stops it on parent cycles.
CREATE OR REPLACE TEMP TABLE derived_usage AS
WITH RECURSIVE
nodes AS (
    SELECT
        trace_id,
        span_id,
        parent_span_id,
        (input_tokens IS NOT NULL OR output_tokens IS NOT NULL OR cache_read_tokens IS NOT NULL
         OR cache_write_tokens IS NOT NULL OR cost_source IS NOT DISTINCT FROM 'span') AS has_usage
    FROM derive_spans
),
above_usage(trace_id, span_id) AS (
    SELECT trace_id, parent_span_id FROM nodes WHERE has_usage AND parent_span_id IS NOT NULL
    UNION
    SELECT nodes.trace_id, nodes.parent_span_id
    FROM above_usage
    JOIN nodes ON nodes.trace_id = above_usage.trace_id AND nodes.span_id = above_usage.span_id
    WHERE nodes.parent_span_id IS NOT NULL
)
SELECT
    nodes.trace_id,
    nodes.span_id,
    NOT (nodes.has_usage AND EXISTS (
        SELECT 1 FROM above_usage WHERE above_usage.trace_id = nodes.trace_id AND above_usage.span_id = nodes.span_id
    )) AS counts_usage
FROM nodes;
