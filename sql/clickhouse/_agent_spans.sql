{#- Shared CTEs (Jinja include, after `WITH`): every span of the traces that have a span in
    [$window_start_us, $window_end_us) (NULL bounds: open), typed by the mapping's generated columns
    ({{ fields }}, halo_local/sources/dialect.py), with the agent and counts_usage that the DuckDB
    normalizer derives (normalize/derive_agents.sql, normalize/derive_usage.sql) computed here:
    nearest agent ancestor-or-self, else the agent the span declares, else the trace's root agent,
    else the service; a span with usage does not count it when a descendant has usage, or when it
    wraps (usage_wrappers) a span with usage. Read with enable_materialized_cte = 1. -#}
window_traces AS (
    SELECT DISTINCT TraceId
    FROM {{ table }}
    WHERE ({window_start_us:Nullable(Int64)} IS NULL
           OR Timestamp >= fromUnixTimestamp64Micro(assumeNotNull({window_start_us:Nullable(Int64)}), 'UTC'))
      AND ({window_end_us:Nullable(Int64)} IS NULL
           OR Timestamp < fromUnixTimestamp64Micro(assumeNotNull({window_end_us:Nullable(Int64)}), 'UTC'))
),
mapped AS (
    SELECT
        TraceId AS trace_id,
        SpanId AS span_id,
        nullIf(ParentSpanId, '') AS parent_span_id,
        SpanName AS name,
        toInt64(toUnixTimestamp64Nano(Timestamp)) AS start_ns,
        toInt64(toUnixTimestamp64Nano(Timestamp)) + toInt64(Duration) AS end_ns,
        replaceRegexpOne(lower(StatusCode), '^status_code_', '') AS exported_status,
        nullIf(ResourceAttributes['service.name'], '') AS service_name,
        ScopeName AS scope_name,
        {{ fields }}
    FROM {{ table }}
    WHERE TraceId IN (SELECT TraceId FROM window_traces)
),
typed AS MATERIALIZED (
    SELECT
        trace_id, span_id, parent_span_id, name, start_ns, end_ns, service_name, scope_name,
        if(upper(ifNull(langfuse_level, '')) = 'ERROR', 'error',
           if(exported_status IN ('error', 'ok'), exported_status, 'unset')) AS status_code,
        replaceRegexpOne(model, '^projects/[^/]+/locations/[^/]+/publishers/[^/]+/models/', '') AS model_name,
        coalesce(span_type, if(model IS NULL, 'other', 'llm')) AS type,
        if(type = 'tool', tool_name, NULL) AS tool_called,
        input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_usd,
        declared_agent,
        if(type = 'agent', coalesce(declared_agent, agent_span_label), NULL) AS agent_label,
        input_tokens IS NOT NULL OR output_tokens IS NOT NULL OR cache_read_tokens IS NOT NULL
            OR cache_write_tokens IS NOT NULL OR cost_usd IS NOT NULL AS has_usage
    FROM mapped
),
-- Each trace's spans as arrays, walked up by pointer jumping: after round k every span has looked
-- 2^k links up (its nearest agent label so far, the distance covered, where it now points), and the
-- set of spans above a span with usage covers 2^k levels. {{ jump_rounds }} rounds cover traces
-- {{ 2 ** jump_rounds }} levels deep. A span whose pointer never reaches a root (a parent cycle) is
-- left out, as the DuckDB walk down from the roots never reaches it.
trace_arrays AS (
    SELECT
        trace_id,
        -- the only reference to `typed`: ClickHouse analyses a CTE again at every reference, and the
        -- mapping's expressions are most of the analysis. One array of tuples, as groupArray skips
        -- NULLs and a tuple holding one is kept.
        groupArray((span_id, ifNull(parent_span_id, ''), agent_label, has_usage, start_ns, end_ns, name,
                    service_name, scope_name, status_code, model_name, type, tool_called, input_tokens,
                    output_tokens, cache_read_tokens, cost_usd, declared_agent, parent_span_id)) AS nodes,
        arrayMap(node -> node.1, nodes)          AS ids,
        arrayMap(node -> node.3, nodes)          AS labels,
        arrayMap(node -> node.4, nodes)          AS usages,
        arrayMap(node -> node.5, nodes)          AS starts,
        arrayMap(node -> toUInt64(indexOf(ids, node.2)), nodes) AS up_0,
        labels                                   AS label_0,
        arrayMap(up -> toUInt64(up != 0), up_0)  AS distance_0,
        arrayDistinct(arrayFilter(up -> up != 0, arrayMap((up, usage) -> if(usage, up, 0), up_0, usages))) AS above_0
    FROM typed
    GROUP BY trace_id
),
{% for round in range(jump_rounds) %}
jump_{{ round + 1 }} AS (
    SELECT
        trace_id, nodes, ids, labels, usages, starts,
        arrayMap(i -> if(up_{{ round }}[i] = 0, up_{{ round }}[i], up_{{ round }}[up_{{ round }}[i]]),
                 arrayEnumerate(ids))                                                     AS up_{{ round + 1 }},
        arrayMap(i -> if(up_{{ round }}[i] = 0, label_{{ round }}[i],
                         coalesce(label_{{ round }}[i], label_{{ round }}[up_{{ round }}[i]])),
                 arrayEnumerate(ids))                                                     AS label_{{ round + 1 }},
        arrayMap(i -> if(up_{{ round }}[i] = 0, distance_{{ round }}[i],
                         distance_{{ round }}[i] + distance_{{ round }}[up_{{ round }}[i]]),
                 arrayEnumerate(ids))                                                     AS distance_{{ round + 1 }},
        arrayDistinct(arrayConcat(above_{{ round }}, arrayFilter(up -> up != 0,
                 arrayMap(position -> up_{{ round }}[position], above_{{ round }}))))     AS above_{{ round + 1 }}
    FROM {% if round == 0 %}trace_arrays{% else %}jump_{{ round }}{% endif %}
),
{% endfor %}
-- Per span again: the walk's results, the trace's root agent (the highest, then earliest, agent
-- span reached from a root), and what the usage rules need to know about its trace.
walked AS (
    SELECT
        trace_id,
        nodes[position].1 AS span_id, nodes[position].19 AS parent_span_id, nodes[position].5 AS start_ns,
        nodes[position].6 AS end_ns, nodes[position].7 AS name, nodes[position].8 AS service_name,
        nodes[position].9 AS scope_name, nodes[position].10 AS status_code, nodes[position].11 AS model_name,
        nodes[position].12 AS type, nodes[position].13 AS tool_called, nodes[position].14 AS input_tokens,
        nodes[position].15 AS output_tokens, nodes[position].16 AS cache_read_tokens,
        nodes[position].17 AS cost_usd, nodes[position].4 AS has_usage,
        up_{{ jump_rounds }}[position] = 0 AS reached,
        coalesce(if(reached, label_{{ jump_rounds }}[position], NULL), nodes[position].18,
                 labels[arraySort(candidate -> (distance_{{ jump_rounds }}[candidate], starts[candidate], ids[candidate]),
                     arrayFilter(candidate -> up_{{ jump_rounds }}[candidate] = 0 AND labels[candidate] IS NOT NULL,
                                 arrayEnumerate(ids)))[1]],
                 service_name) AS agent_name,
        has(above_{{ jump_rounds }}, position) AS has_usage_below,
        transform(name, {wrapper_names:Array(String)}, {inner_names:Array(String)}, '') AS wrapped_name,
        has(arrayMap(node -> node.7, nodes), wrapped_name) AS trace_holds_inner,
        has(arrayMap(node -> node.7, arrayFilter(node -> node.4, nodes)), wrapped_name) AS trace_holds_inner_usage
    FROM jump_{{ jump_rounds }}
    ARRAY JOIN arrayEnumerate(ids) AS position
),
-- A wrapper whose trace holds no inner span at all (a capture that lost the trace context) does not
-- count usage when an inner span of its service with usage starts within its time, in another trace:
-- the earliest such start at or after the wrapper's, over the rows of that inner name and service.
usage_rows AS (
    SELECT
        *,
        minOrNull(if(has_usage AND has({inner_names:Array(String)}, name), start_ns, NULL)) OVER (
            PARTITION BY ifNull(service_name, ''), if(wrapped_name != '', wrapped_name, name)
            ORDER BY start_ns, wrapped_name != '' DESC
            ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS next_inner_usage_ns
    FROM walked
),
agent_spans AS (
    SELECT
        *,
        NOT (has_usage AND (has_usage_below OR trace_holds_inner_usage
             OR (wrapped_name != '' AND NOT trace_holds_inner AND next_inner_usage_ns <= end_ns))) AS counts_usage
    FROM usage_rows
),
agent_window AS MATERIALIZED (
    SELECT *
    FROM agent_spans
    WHERE ifNull(service_name, '') = {service_name:String}
      AND ifNull(agent_name, '') = {agent_name:String}
      AND ({window_start_us:Nullable(Int64)} IS NULL OR start_ns >= {window_start_us:Nullable(Int64)} * 1000)
      AND ({window_end_us:Nullable(Int64)} IS NULL OR start_ns < {window_end_us:Nullable(Int64)} * 1000)
)
