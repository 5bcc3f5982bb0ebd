-- counts_usage: FALSE for a span carrying usage (tokens, or a cost given on it) when one of its
-- descendants carries usage too — its numbers aggregate theirs. The walk goes up the parent links;
-- UNION (not UNION ALL) stops it on parent cycles. A wrapper span of usage_wrappers (mapping.sql)
-- aggregates its inner provider calls without needing the links: it does not count usage when its
-- trace holds an inner span with usage, or, when its trace holds none, when one of the same service
-- starts within the wrapper's time in another trace (a capture that lost the trace context).
-- A Jinja template: `in_store` false where derive_spans holds no wrapper (derive_fresh.sql) and the store
-- is not at hand, which leaves out the look into other traces.
CREATE OR REPLACE TEMP TABLE derived_usage AS
WITH RECURSIVE
nodes AS (
    SELECT
        span_key,
        trace_id,
        span_id,
        parent_span_id,
        name,
        start_ns,
        end_ns,
        service_name,
        norm_has_usage(input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_source) AS has_usage
    FROM derive_spans
),
above_usage(trace_id, span_id) AS (
    SELECT trace_id, parent_span_id FROM nodes WHERE has_usage AND parent_span_id IS NOT NULL
    UNION
    SELECT nodes.trace_id, nodes.parent_span_id
    FROM above_usage
    JOIN nodes ON nodes.trace_id = above_usage.trace_id AND nodes.span_id = above_usage.span_id
    WHERE nodes.parent_span_id IS NOT NULL
),
wrappers AS (
    SELECT nodes.trace_id, nodes.span_id, nodes.start_ns, nodes.end_ns, nodes.service_name, pair.inner_name,
           EXISTS (
               SELECT 1 FROM nodes AS inner_span
               WHERE inner_span.trace_id = nodes.trace_id AND inner_span.name = pair.inner_name
           ) AS trace_holds_inner
    FROM nodes
    JOIN usage_wrappers AS pair ON pair.wrapper_name = nodes.name
    WHERE nodes.has_usage
),
wrapped(trace_id, span_id) AS (
    SELECT wrappers.trace_id, wrappers.span_id
    FROM wrappers
    WHERE EXISTS (
        SELECT 1 FROM nodes AS inner_span
        WHERE inner_span.trace_id = wrappers.trace_id AND inner_span.name = wrappers.inner_name
          AND inner_span.has_usage
    ){% if in_store %} OR (NOT wrappers.trace_holds_inner AND EXISTS (
        SELECT 1 FROM spans AS inner_span
        WHERE inner_span.name = wrappers.inner_name
          AND inner_span.service_name IS NOT DISTINCT FROM wrappers.service_name
          AND inner_span.start_ns BETWEEN wrappers.start_ns AND wrappers.end_ns
          AND norm_has_usage(inner_span.input_tokens, inner_span.output_tokens, inner_span.cache_read_tokens,
                             inner_span.cache_write_tokens, inner_span.cost_source)
    )){% endif %}
)
SELECT
    nodes.span_key,
    NOT (nodes.has_usage AND (
        EXISTS (SELECT 1 FROM above_usage
                WHERE above_usage.trace_id = nodes.trace_id AND above_usage.span_id = nodes.span_id)
        OR EXISTS (SELECT 1 FROM wrapped WHERE wrapped.trace_id = nodes.trace_id AND wrapped.span_id = nodes.span_id)
    )) AS counts_usage
FROM nodes;
