-- The window-wide overview of one agent (every span of the window, not the capped snapshot) in one
-- query, agent_window referenced once (ClickHouse analyses a CTE again at every reference): the
-- numbers of sql/overview/totals.sql and, as arrays of tuples, the rows of sql/overview/models.sql,
-- tools.sql and failures.sql. Exact percentiles: quantileExactInclusive is DuckDB's quantile_cont.
-- Each call is priced here as normalize/price.sql prices it locally, from the genai-prices rates
-- halo-local ships in as parameters ($rule_* and $rate_*, keyed by provider and model; sources/prices.py).
WITH
{% include "clickhouse/_agent_spans.sql" %},
ruled AS (
    SELECT
        *,
        if(provider_name IS NULL, NULL,
           transform(assumeNotNull(provider_name), {provider_names:Array(String)}, {provider_ids:Array(String)},
                     assumeNotNull(provider_name)))                                       AS provider,
        concat(ifNull(provider, ''), '\x1f', ifNull(model_name, ''))                    AS price_key,
        toInt32(intDiv(start_ns, 86400000000000))                                        AS start_day,
        intDiv(start_ns, 1000) % 86400000000                                             AS start_time_us,
        input_tokens IS NOT NULL OR output_tokens IS NOT NULL OR cache_read_tokens IS NOT NULL
            OR cache_write_tokens IS NOT NULL                                            AS has_tokens,
        -- the rules of the span's model; the last one whose date or time of day holds, else the first
        arrayFilter(rule -> rule.1 = price_key,
                    arrayZip({rule_keys:Array(String)}, {rule_indexes:Array(UInt32)},
                             {rule_start_days:Array(Nullable(Int32))}, {rule_time_starts:Array(Nullable(Int64))},
                             {rule_time_ends:Array(Nullable(Int64))}))                   AS span_rules,
        NOT empty(span_rules)                                                            AS has_rates
    FROM agent_window
),
-- (each step its own CTE: an alias used twice in one SELECT is analysed twice)
rated AS (
    SELECT
        *,
        arrayMax(arrayConcat([toUInt32(0)], arrayMap(rule -> rule.2, arrayFilter(rule ->
            (rule.3 IS NULL OR start_day >= ifNull(rule.3, 0))
            AND (rule.4 IS NULL OR if(ifNull(rule.5, 0) < ifNull(rule.4, 0),
                                      start_time_us >= ifNull(rule.4, 0) OR start_time_us < ifNull(rule.5, 0),
                                      start_time_us >= ifNull(rule.4, 0) AND start_time_us < ifNull(rule.5, 0))),
            span_rules))))                                                               AS rule_index
    FROM ruled
),
ranked_rates AS (
    SELECT
        *,
        -- the chosen rule's rates whose tier starts below the input tokens, highest tier first
        arrayReverseSort(rate -> rate.4, arrayFilter(rate -> rate.1 = price_key AND rate.2 = rule_index
                                                   AND ifNull(input_tokens, 0) > rate.4,
            arrayZip({rate_keys:Array(String)}, {rate_rules:Array(UInt32)}, {rate_units:Array(String)},
                     {rate_tiers:Array(Int64)}, arrayMap(rate -> toDecimal128(rate, 24), {rate_values:Array(String)}))))
                                                                                         AS span_rates
    FROM rated
),
priced AS (
    SELECT
        *,
        arrayFirstIndex(rate -> rate.3 = 'input', span_rates)                            AS input_at,
        arrayFirstIndex(rate -> rate.3 = 'output', span_rates)                           AS output_at,
        arrayFirstIndex(rate -> rate.3 = 'cache_read', span_rates)                       AS cache_read_at,
        arrayFirstIndex(rate -> rate.3 = 'cache_write', span_rates)                      AS cache_write_at,
        arrayFirstIndex(rate -> rate.3 = 'requests', span_rates)                         AS request_at,
        ifNull(input_tokens, 0) - if(cache_read_at > 0, ifNull(cache_read_tokens, 0), 0)
            - if(cache_write_at > 0, ifNull(cache_write_tokens, 0), 0)                   AS input_leaf
    FROM ranked_rates
),
costed AS (
    SELECT
        *,
        has_rates AND ifNull(input_tokens, 0) >= 0 AND ifNull(output_tokens, 0) >= 0
            AND ifNull(cache_read_tokens, 0) >= 0 AND ifNull(cache_write_tokens, 0) >= 0
            AND (input_at = 0 OR input_leaf >= 0)
            AND NOT (input_tokens IS NULL AND input_at > 0
                     AND (ifNull(cache_read_tokens, 0) > 0 OR ifNull(cache_write_tokens, 0) > 0)) AS priceable,
        multiIf(cost_usd IS NOT NULL, 'span', NOT has_tokens, '', priceable, 'computed', 'unpriced') AS cost_source
    FROM priced
),
spans_costed AS (
    SELECT
        *,
        multiIf(cost_usd IS NOT NULL, CAST(cost_usd AS Nullable(Decimal(38, 10))),
                cost_source = 'computed', CAST(round(
                    if(input_at > 0, span_rates[input_at].5 * input_leaf, toDecimal128(0, 24))
                    + if(output_at > 0, span_rates[output_at].5 * ifNull(output_tokens, 0), toDecimal128(0, 24))
                    + if(cache_read_at > 0, span_rates[cache_read_at].5 * ifNull(cache_read_tokens, 0), toDecimal128(0, 24))
                    + if(cache_write_at > 0, span_rates[cache_write_at].5 * ifNull(cache_write_tokens, 0), toDecimal128(0, 24))
                    + if(request_at > 0, span_rates[request_at].5, toDecimal128(0, 24)), 10) AS Nullable(Decimal(38, 10))),
                NULL)                                                                    AS span_cost
    FROM costed
),
-- Each span counted in the sections it belongs to: its trace, its model (a call with usage), its
-- tool, its failure subject.
sectioned AS (
    SELECT
        section.1 AS part, section.2 AS key, section.3 AS key_2,
        trace_id, status_code, type, start_ns, end_ns, input_tokens, output_tokens, cache_read_tokens,
        counts_usage, span_cost, cost_source, provider, model_name
    FROM spans_costed
    ARRAY JOIN arrayFilter(section -> section.1 != '', [
        ('trace', trace_id, ''),
        (if(counts_usage AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL OR span_cost IS NOT NULL),
            'model', ''), ifNull(model_name, '(unknown model)'), ''),
        (if(type = 'tool', 'tool', ''),
         if(position(lower(ifNull(scope_name, '')), 'beeai') > 0, replaceRegexpOne(ifNull(tool_called, name), '-[0-9]+$', ''),
            ifNull(tool_called, name)), ''),
        (if(status_code = 'error', 'failure', ''), ifNull(tool_called, name), type)]) AS section
),
grouped AS (
    SELECT
        part, key, key_2,
        count()                                                                  AS spans,
        uniqExact(trace_id)                                                      AS traces,
        countIf(status_code = 'error')                                           AS error_spans,
        countIf(type = 'llm')                                                    AS llm_calls,
        countIf(type = 'tool')                                                   AS tool_calls,
        sumIf(ifNull(input_tokens, 0), counts_usage)                             AS input_tokens,
        sumIf(ifNull(output_tokens, 0), counts_usage)                            AS output_tokens,
        sumIf(ifNull(cache_read_tokens, 0), counts_usage)                        AS cache_read_tokens,
        sumIf(span_cost, counts_usage)                                           AS cost_usd,
        countIf(counts_usage AND cost_source = 'unpriced')                       AS unpriced_calls,
        groupUniqArrayIf(model_name, model_name IS NOT NULL AND counts_usage AND cost_source = 'unpriced')
                                                                                 AS unpriced_models,
        min(provider)                                                            AS provider,
        min(start_ns)                                                            AS first_start_ns,
        max(end_ns)                                                              AS last_end_ns,
        (last_end_ns - first_start_ns) / 1e6                                     AS duration_ms,
        quantileExactInclusiveIf(0.5)((end_ns - start_ns) / 1e6, part = 'tool')  AS p50_ms,
        quantileExactInclusiveIf(0.95)((end_ns - start_ns) / 1e6, part = 'tool') AS p95_ms
    FROM sectioned
    GROUP BY part, key, key_2
)
SELECT
    countIf(part = 'trace')                                                      AS traces,
    countIf(part = 'trace' AND error_spans > 0)                                  AS error_traces,
    if(countIf(part = 'trace') = 0, NULL, quantileExactInclusiveIf(0.5)(duration_ms, part = 'trace'))  AS p50_trace_ms,
    if(countIf(part = 'trace') = 0, NULL, quantileExactInclusiveIf(0.95)(duration_ms, part = 'trace')) AS p95_trace_ms,
    if(countIf(part = 'trace') = 0, NULL, maxIf(duration_ms, part = 'trace'))                    AS max_trace_ms,
    sumIf(spans, part = 'trace')                                                 AS spans,
    sumIf(error_spans, part = 'trace')                                           AS error_spans,
    sumIf(llm_calls, part = 'trace')                                             AS llm_calls,
    sumIf(tool_calls, part = 'trace')                                            AS tool_calls,
    sumIf(input_tokens, part = 'trace')                                          AS input_tokens,
    sumIf(output_tokens, part = 'trace')                                         AS output_tokens,
    sumIf(cost_usd, part = 'trace')                                              AS cost_usd,
    sumIf(unpriced_calls, part = 'trace')                                        AS unpriced_spans,
    arraySort(groupUniqArrayArrayIf(unpriced_models, part = 'trace'))            AS unpriced_models,
    if(countIf(part = 'trace') = 0, NULL, minIf(first_start_ns, part = 'trace'))                  AS first_start_ns,
    if(countIf(part = 'trace') = 0, NULL, maxIf(last_end_ns, part = 'trace'))                     AS last_end_ns,
    arraySlice(arraySort(row -> (row.7 IS NULL, -ifNull(row.7, toDecimal128(0, 10)), -row.3, row.1), groupArrayIf(
        (key, provider, spans, input_tokens, output_tokens, cache_read_tokens, cost_usd, unpriced_calls),
        part = 'model')), 1, {row_limit:UInt32})                                 AS models,
    arraySlice(arraySort(row -> (-row.2, row.1), groupArrayIf(
        (key, spans, traces, error_spans, p50_ms, p95_ms), part = 'tool')), 1, {row_limit:UInt32}) AS tools,
    arraySlice(arraySort(row -> (-row.3, row.1, row.2), groupArrayIf(
        (key, key_2, spans, traces), part = 'failure')), 1, {row_limit:UInt32})  AS failures
FROM grouped
