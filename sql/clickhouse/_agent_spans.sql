{#- Shared CTEs (Jinja include, after `WITH`): every span of the traces that have a span in
    [$window_start_us, $window_end_us) (NULL bounds: open), typed by the mapping's generated columns
    (clickhouse/_mapping.sql over the `fields` halo_local/sources/dialect.py chooses), with the agent
    and counts_usage that the DuckDB normalizer derives (normalize/derive_agents.sql, normalize/derive_usage.sql) computed here:
    nearest agent ancestor-or-self, else the agent the span declares, else the trace's root agent,
    else the service; a span with usage does not count it when a descendant has usage, or when it
    wraps (usage_wrappers) a span with usage. Read with enable_materialized_cte = 1. -#}
{% import "clickhouse/_mapping.sql" as mapping %}
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
        {{ mapping.mapped_columns(fields) }}
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
        lower(provider_raw) AS provider_name,
        declared_agent,
        if(type = 'agent', coalesce(declared_agent, agent_span_label), NULL) AS agent_label,
        input_tokens IS NOT NULL OR output_tokens IS NOT NULL OR cache_read_tokens IS NOT NULL
            OR cache_write_tokens IS NOT NULL OR cost_usd IS NOT NULL AS has_usage
    FROM mapped
),
-- Each trace's spans as arrays, walked up by pointer jumping (one arrayFold, so the round is analysed
-- once): after round k every span has looked 2^k links up (its nearest agent label so far, the
-- distance covered, where it now points), and the set of spans above a span with usage covers 2^k
-- levels. A trace of n spans is at most n - 1 levels deep, so it takes ceil(log2(n + 1)) rounds
-- (4 for 10 spans; each round costs as much as the mapping), at most {{ jump_rounds }} (traces
-- {{ 2 ** jump_rounds }} levels deep). A span whose
-- pointer never reaches a root (a parent cycle) is left out, as the DuckDB walk down from the roots
-- never reaches it. Everything per trace is computed here, before the spans are unrolled again.
trace_walks AS (
    SELECT
        trace_id,
        -- the only reference to `typed`: ClickHouse analyses a CTE again at every reference, and the
        -- mapping's expressions are most of the analysis. One array of tuples, as groupArray skips
        -- NULLs and a tuple holding one is kept.
        -- With `agents_only` (agents.sql) the usage and model columns are not carried: a tuple is
        -- computed whole, so carrying them would compute every mapped field for agent discovery.
        {%- set usage_column = "NULL" if agents_only | default(false) else None %}
        groupArray((span_id, ifNull(parent_span_id, ''), agent_label, {{ "false" if usage_column else "has_usage" }},
                    start_ns, end_ns, name, service_name, scope_name, status_code,
                    {%- for column in ["model_name", "type", "tool_called", "input_tokens", "output_tokens",
                                       "cache_read_tokens", "cost_usd"] %} {{ usage_column or column }},{% endfor %}
                    declared_agent, parent_span_id, {{ usage_column or "provider_name" }},
                    {{ usage_column or "cache_write_tokens" }})) AS nodes,
        arrayMap(node -> node.1, nodes) AS ids,
        arrayMap(node -> node.3, nodes) AS labels,
        arrayMap(node -> toUInt64(indexOf(ids, node.2)), nodes) AS up_0,
        arrayFold((state, round) -> (
            arrayMap(i -> if(state.1[i] = 0, 0, state.1[state.1[i]]), arrayEnumerate(ids)),
            arrayMap(i -> if(state.1[i] = 0, state.2[i], coalesce(state.2[i], state.2[state.1[i]])), arrayEnumerate(ids)),
            arrayMap(i -> if(state.1[i] = 0, state.3[i], state.3[i] + state.3[state.1[i]]), arrayEnumerate(ids)),
            arrayDistinct(arrayConcat(state.4, arrayFilter(up -> up != 0, arrayMap(position -> state.1[position], state.4))))),
            range(toUInt8(least({{ jump_rounds }}, ceil(log2(length(ids) + 1))))),
            (up_0, labels, arrayMap(up -> toUInt64(up != 0), up_0),
             arrayDistinct(arrayFilter(up -> up != 0, arrayMap((up, node) -> if(node.4, up, 0), up_0, nodes))))) AS walk,
        -- the trace's root agent: the highest, then earliest, agent span reached from a root
        labels[arraySort(candidate -> (walk.3[candidate], nodes[candidate].5, ids[candidate]),
                         arrayFilter(candidate -> walk.1[candidate] = 0 AND labels[candidate] IS NOT NULL,
                                     arrayEnumerate(ids)))[1]] AS root_label,
        -- nearest agent ancestor-or-self (when the walk reached a root), else the declared agent, else
        -- the root agent, else the service
        arrayMap(i -> coalesce(if(walk.1[i] = 0, walk.2[i], NULL), nodes[i].18, root_label, nodes[i].8),
                 arrayEnumerate(ids)) AS agent_names,
        arrayMap(i -> has(walk.4, i), arrayEnumerate(ids)) AS usage_below,
        -- the usage wrappers' inner span names this trace holds (with usage)
        arrayFilter(inner -> has(arrayMap(node -> node.7, nodes), inner), {inner_names:Array(String)}) AS inner_present,
        arrayFilter(inner -> has(arrayMap(node -> node.7, arrayFilter(node -> node.4, nodes)), inner),
                    {inner_names:Array(String)}) AS inner_with_usage
    FROM typed
    GROUP BY trace_id
),
-- Per span again: only the unrolled arrays and the small per-trace lists are carried.
walked AS (
    SELECT
        trace_id,
        node.1 AS span_id, node.19 AS parent_span_id, node.5 AS start_ns, node.6 AS end_ns, node.7 AS name,
        node.8 AS service_name, node.9 AS scope_name, node.10 AS status_code, node.11 AS model_name,
        node.12 AS type, node.13 AS tool_called, node.14 AS input_tokens, node.15 AS output_tokens,
        node.16 AS cache_read_tokens, node.21 AS cache_write_tokens, node.17 AS cost_usd,
        node.20 AS provider_name, node.4 AS has_usage, agent_name, has_usage_below,
        transform(name, {wrapper_names:Array(String)}, {inner_names:Array(String)}, '') AS wrapped_name,
        has(inner_present, wrapped_name) AS trace_holds_inner,
        has(inner_with_usage, wrapped_name) AS trace_holds_inner_usage
    FROM trace_walks
    ARRAY JOIN nodes AS node, agent_names AS agent_name, usage_below AS has_usage_below
),
-- A wrapper whose trace holds no inner span at all (a capture that lost the trace context) does not
-- count usage when an inner span of its service with usage starts within its time, in another trace:
-- the earliest such start at or after the wrapper's, over the rows of that inner name and service.
-- Latest first, so the frame is a running one (UNBOUNDED PRECEDING): ClickHouse adds each row to the
-- running minimum, where a frame whose start moves (CURRENT ROW AND UNBOUNDED FOLLOWING) is
-- recomputed at every row, quadratic in the partition (337 s for 1M spans, 0.5M of one name).
usage_rows AS (
    SELECT
        *,
        minOrNull(if(has_usage AND has({inner_names:Array(String)}, name), start_ns, NULL)) OVER (
            PARTITION BY ifNull(service_name, ''), if(wrapped_name != '', wrapped_name, name)
            ORDER BY start_ns DESC, wrapped_name != ''
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS next_inner_usage_ns
    FROM walked
),
agent_spans AS (
    SELECT
        *,
        NOT (has_usage AND (has_usage_below OR trace_holds_inner_usage
             OR (wrapped_name != '' AND NOT trace_holds_inner AND next_inner_usage_ns <= end_ns))) AS counts_usage
    FROM usage_rows
)
,
-- The agent's spans (by its uuid5, as ingest.normalize.agent_uuid_for makes it from the service and
-- the agent name) that start in the window.
agent_window AS (
    SELECT
        *,
        SHA1(concat(unhex({agent_namespace:String}), ifNull(service_name, ''), '\x1f', ifNull(agent_name, ''))) AS agent_hash,
        UUIDNumToString(toFixedString(concat(substring(agent_hash, 1, 6),
            char(bitOr(bitAnd(reinterpretAsUInt8(substring(agent_hash, 7, 1)), 15), 80)), substring(agent_hash, 8, 1),
            char(bitOr(bitAnd(reinterpretAsUInt8(substring(agent_hash, 9, 1)), 63), 128)), substring(agent_hash, 10, 7)),
            16)) AS agent_uuid
    FROM agent_spans
    WHERE ({window_start_us:Nullable(Int64)} IS NULL OR start_ns >= {window_start_us:Nullable(Int64)} * 1000)
      AND ({window_end_us:Nullable(Int64)} IS NULL OR start_ns < {window_end_us:Nullable(Int64)} * 1000)
      AND agent_uuid = {agent_uuid:String}
)
