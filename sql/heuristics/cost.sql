-- cost: where the agent's money goes wrong. Usage and cost are summed only over spans with
-- counts_usage; unpriced usage (cost_usd NULL) is never counted as $0: it is left out of sums and
-- its models are listed in detail.unpricedModels (data_quality reports them).
--   costly traces: traces costing >= $cost_outlier_ratio x the agent's median trace and at least
--                  $cost_outlier_min_excess_usd more, once >= $cost_min_traces traces are priced.
--                  Impact: dollars above the median.
--   model choice:  at one call site (the parent span's name), a model costing >= $cost_model_ratio
--                  x per call what a cheaper model costs there, the cheaper one failing no more often
--                  (+5 points); each with >= $cost_model_min_calls priced calls. Impact: calls x
--                  the per-call difference.
--   context growth: traces whose model calls read ever more input: >= $context_growth_min_turns
--                  calls, the last reading >= $context_growth_ratio x the first's input tokens and
--                  >= $context_growth_min_tokens, input growing on >= $context_growth_monotone_share of
--                  turns. Impact (estimate): each call's cost times the share of its input above the
--                  first call's.
--   regression:    mean priced trace cost >= $cost_regression_ratio x the previous window's (both
--                  with >= $cost_min_traces priced traces). Impact: the difference x traces.
-- Why it matters: the cost of an agent is a handful of runaway traces, a model too big for the job,
-- or a context that is re-sent and re-billed every turn.
-- Severity: high when impact >= $cost_high_usd, medium when >= $cost_medium_usd, else low.
WITH unpriced AS (
    SELECT coalesce(list(DISTINCT coalesce(model, '(unknown model)') ORDER BY coalesce(model, '(unknown model)')), [])
               AS models
    FROM halo_h_spans
    WHERE counts_usage AND unpriced
),
priced_traces AS (
    SELECT * FROM halo_h_traces WHERE cost_usd IS NOT NULL
),
trace_baseline AS (
    SELECT count(*) AS traces, median(cost_usd) AS median_usd, avg(cost_usd) AS mean_usd
    FROM priced_traces
),
costly AS (
    SELECT priced_traces.*, priced_traces.cost_usd - trace_baseline.median_usd AS excess_usd
    FROM priced_traces
    CROSS JOIN trace_baseline
    WHERE trace_baseline.traces >= $cost_min_traces
      AND priced_traces.cost_usd >= $cost_outlier_ratio * trace_baseline.median_usd
      AND priced_traces.cost_usd - trace_baseline.median_usd >= $cost_outlier_min_excess_usd
),
costly_group AS (
    SELECT
        unnest(halo_h_trace_spread(spans, failed, first_seen, last_seen)),
        sum(excess_usd)                                            AS excess_usd,
        median(cost_usd)                                           AS typical_usd,
        max(cost_usd)                                              AS max_usd,
        list(trace_id ORDER BY (-cost_usd, trace_id))                AS example_trace_ids
    FROM costly
    HAVING count(*) > 0
),
costly_spans AS (
    -- The costliest call of each costly trace (cost descending, then start), then the first 5 of
    -- those. arg_min(x, key, 5) keeps the rows of the 5 smallest keys in key order, as a sort
    -- would; negating the cost orders it descending.
    SELECT arg_min(span_id, top_key, 5) AS example_span_ids
    FROM (
        SELECT spans.trace_id,
               arg_min(spans.span_id, (-spans.cost_usd, spans.start_ns, spans.span_id)) AS span_id,
               min((-spans.cost_usd, spans.start_ns, spans.span_id))                  AS top_key
        FROM halo_h_spans AS spans
        SEMI JOIN costly ON costly.trace_id = spans.trace_id
        WHERE spans.counts_usage AND spans.cost_usd IS NOT NULL
        GROUP BY spans.trace_id
    )
),
calls AS NOT MATERIALIZED (
    SELECT *, coalesce(parent_name, split_part(name, ' ', 1)) AS call_site
    FROM halo_h_spans
    WHERE span_type = 'llm' AND counts_usage AND cost_usd IS NOT NULL AND model IS NOT NULL
),
per_model AS (
    SELECT
        call_site,
        model,
        count(*)                                                   AS calls,
        avg(cost_usd)                                              AS avg_usd,
        avg(CASE WHEN is_error THEN 1.0 ELSE 0.0 END)              AS error_rate
    FROM calls
    GROUP BY call_site, model
    HAVING count(*) >= $cost_model_min_calls
),
cheapest AS (
    SELECT
        call_site,
        arg_min(model, (avg_usd, model))                           AS model,
        min(avg_usd)                                               AS avg_usd,
        arg_min(error_rate, (avg_usd, model))                      AS error_rate,
        arg_min(calls, (avg_usd, model))                           AS calls
    FROM per_model
    GROUP BY call_site
    HAVING count(*) >= 2
),
pricey AS (
    SELECT
        per_model.*,
        cheapest.model                                             AS cheaper_model,
        cheapest.avg_usd                                           AS cheaper_avg_usd,
        cheapest.calls                                             AS cheaper_calls,
        (per_model.avg_usd - cheapest.avg_usd) * per_model.calls   AS excess_usd
    FROM per_model
    JOIN cheapest USING (call_site)
    WHERE per_model.model <> cheapest.model
      AND per_model.avg_usd > 0
      AND per_model.avg_usd >= $cost_model_ratio * cheapest.avg_usd
      AND cheapest.error_rate <= per_model.error_rate + 0.05
),
pricey_calls AS (
    -- The calls of each pricey (call site, model), costliest first: example spans and traces
    -- come in that order.
    SELECT (call_site, model) AS group_key, trace_id, span_id, start_time, end_time,
           (-cost_usd, start_ns, span_id) AS order_key
    FROM calls
    SEMI JOIN pricey USING (call_site, model)
),
-- Traces whose calls can show growth at all (enough calls; the most input read at least the
-- minimum and the ratio times the least, counted per trace in _prepare.sql): what growth asks of the
-- first and last call implies this, so only their calls are put in turn order (a sort of every
-- trace's calls, otherwise).
growth_candidates AS (
    SELECT trace_id
    FROM halo_h_traces
    WHERE input_turns >= $context_growth_min_turns
      AND max_input_tokens >= $context_growth_min_tokens
      AND max_input_tokens >= $context_growth_ratio * min_input_tokens
),
turns AS (
    SELECT
        trace_id, span_id, start_ns, start_time, end_time, input_tokens, cost_usd,
        first_value(input_tokens) OVER turn_order                  AS first_input,
        lag(input_tokens) OVER turn_order                          AS previous_input,
        row_number() OVER turn_order                               AS turn
    FROM halo_h_spans
    WHERE span_type = 'llm' AND counts_usage AND input_tokens IS NOT NULL
      AND trace_id IN (SELECT trace_id FROM growth_candidates)
    WINDOW turn_order AS (PARTITION BY trace_id ORDER BY start_ns, span_id)
),
growth AS (
    SELECT
        trace_id,
        count(*)                                                   AS turns,
        min(first_input)                                           AS first_input,
        arg_max(input_tokens, turn)                                AS last_input,
        arg_max(span_id, turn)                                     AS last_span_id,
        max(input_tokens)                                          AS peak_input,
        count(*) FILTER (WHERE input_tokens > previous_input)      AS grew,
        sum(greatest(input_tokens - first_input, 0))               AS extra_tokens,
        sum(cost_usd * greatest(input_tokens - first_input, 0) / input_tokens)
            FILTER (WHERE input_tokens > 0)                        AS extra_usd,
        min(start_time)                                            AS first_seen,
        max(coalesce(end_time, start_time))                        AS last_seen
    FROM turns
    GROUP BY trace_id
    HAVING count(*) >= $context_growth_min_turns
       AND min(first_input) > 0
       AND arg_max(input_tokens, turn) >= $context_growth_ratio * min(first_input)
       AND arg_max(input_tokens, turn) >= $context_growth_min_tokens
       AND count(*) FILTER (WHERE input_tokens > previous_input) >= $context_growth_monotone_share * (count(*) - 1)
),
growth_group AS (
    SELECT
        unnest(halo_h_trace_spread(growth.turns, traces.failed, growth.first_seen, growth.last_seen)),
        median(growth.first_input)                                 AS typical_first,
        median(growth.last_input)                                  AS typical_last,
        max(growth.peak_input)                                     AS peak_input,
        sum(growth.extra_tokens)                                   AS extra_tokens,
        sum(growth.extra_usd)                                      AS extra_usd,
        list(growth.trace_id ORDER BY growth.peak_input DESC, growth.trace_id) AS example_trace_ids,
        list(growth.last_span_id ORDER BY growth.peak_input DESC, growth.trace_id)[1:5] AS example_span_ids
    FROM growth
    JOIN (SELECT trace_id, failed, cost_usd AS trace_cost_usd FROM halo_h_traces) AS traces USING (trace_id)
    HAVING count(*) > 0
),
previous_traces AS (
    SELECT trace_id, sum(cost_usd) AS cost_usd
    FROM halo_h_previous
    WHERE counts_usage AND cost_usd IS NOT NULL
    GROUP BY trace_id
),
previous_baseline AS (
    SELECT count(*) AS traces, avg(cost_usd) AS mean_usd FROM previous_traces
),
regression AS (
    SELECT
        trace_baseline.traces,
        trace_baseline.mean_usd,
        previous_baseline.traces                                   AS previous_traces,
        previous_baseline.mean_usd                                 AS previous_mean_usd,
        (trace_baseline.mean_usd - previous_baseline.mean_usd) * trace_baseline.traces AS excess_usd
    FROM trace_baseline
    CROSS JOIN previous_baseline
    WHERE trace_baseline.traces >= $cost_min_traces
      AND previous_baseline.traces >= $cost_min_traces
      AND previous_baseline.mean_usd > 0
      AND trace_baseline.mean_usd >= $cost_regression_ratio * previous_baseline.mean_usd
),
regression_examples AS (
    SELECT
        unnest(halo_h_trace_spread(spans, failed, first_seen, last_seen)),
        list(trace_id ORDER BY (-cost_usd, trace_id))                AS example_trace_ids
    FROM priced_traces
)
SELECT
    'cost'                                                         AS category,
    halo_h_usd_severity(costly_group.excess_usd, $cost_high_usd, $cost_medium_usd) AS severity,
    printf('%d trace%s cost far above the median trace ($%.4f typical against $%.4f)',
           costly_group.traces, CASE WHEN costly_group.traces = 1 THEN '' ELSE 's' END,
           costly_group.typical_usd, trace_baseline.median_usd)    AS title,
    NULL                                                           AS subject,
    'trace_cost_usd'                                               AS metric,
    costly_group.typical_usd                                       AS value,
    trace_baseline.median_usd                                      AS baseline,
    costly_group.traces                                            AS affected_traces,
    costly_group.spans                                             AS affected_spans,
    costly_group.traces / totals.traces                            AS trace_share,
    costly_group.spans / totals.spans                              AS span_share,
    0.0                                                            AS impact_seconds,
    costly_group.excess_usd                                        AS impact_usd,
    costly_group.failed_traces                                     AS failed_traces,
    costly_group.first_seen                                        AS first_seen,
    costly_group.last_seen                                         AS last_seen,
    costly_group.example_trace_ids                                 AS example_trace_ids,
    costly_spans.example_span_ids                                  AS example_span_ids,
    json_object(
        'pricedTraces', trace_baseline.traces,
        'maxUsd', costly_group.max_usd,
        'ratio', $cost_outlier_ratio,
        'unpricedModels', unpriced.models
    )                                                              AS detail
FROM costly_group
CROSS JOIN trace_baseline
CROSS JOIN costly_spans
CROSS JOIN unpriced
CROSS JOIN halo_h_totals AS totals

UNION ALL

SELECT
    'cost',
    halo_h_usd_severity(pricey.excess_usd, $cost_high_usd, $cost_medium_usd),
    printf('%s costs %.1fx per call what %s costs at %s ($%.4f against $%.4f)',
           pricey.model, pricey.avg_usd / nullif(pricey.cheaper_avg_usd, 0), pricey.cheaper_model,
           pricey.call_site, pricey.avg_usd, pricey.cheaper_avg_usd),
    pricey.model,
    'cost_per_call_usd',
    pricey.avg_usd,
    pricey.cheaper_avg_usd,
    examples.traces,
    pricey.calls,
    examples.traces / totals.traces,
    pricey.calls / totals.llm_calls,
    0.0,
    pricey.excess_usd,
    examples.failed_traces,
    examples.first_seen,
    examples.last_seen,
    examples.example_trace_ids,
    examples.example_span_ids,
    json_object(
        'signature', pricey.call_site,
        'callSite', pricey.call_site,
        'cheaperModel', pricey.cheaper_model,
        'cheaperCalls', pricey.cheaper_calls,
        'errorRate', round(pricey.error_rate, 4),
        'unpricedModels', unpriced.models
    )
FROM pricey
JOIN halo_h_group_examples('pricey_calls') AS examples ON examples.group_key = (pricey.call_site, pricey.model)
CROSS JOIN unpriced
CROSS JOIN halo_h_totals AS totals

UNION ALL

SELECT
    'cost',
    halo_h_usd_severity(growth_group.extra_usd, $cost_high_usd, $cost_medium_usd),
    printf('Context grows turn after turn in %d trace%s: input climbs from ~%d to ~%d tokens per call',
           growth_group.traces, CASE WHEN growth_group.traces = 1 THEN '' ELSE 's' END,
           CAST(growth_group.typical_first AS BIGINT), CAST(growth_group.typical_last AS BIGINT)),
    NULL,
    'input_tokens_per_call',
    growth_group.typical_last,
    growth_group.typical_first,
    growth_group.traces,
    growth_group.spans,
    growth_group.traces / totals.traces,
    growth_group.spans / totals.llm_calls,
    0.0,
    growth_group.extra_usd,
    growth_group.failed_traces,
    growth_group.first_seen,
    growth_group.last_seen,
    growth_group.example_trace_ids,
    growth_group.example_span_ids,
    json_object(
        'extraInputTokens', growth_group.extra_tokens,
        'peakInputTokens', growth_group.peak_input,
        'impactIsEstimate', TRUE,
        'unpricedModels', unpriced.models
    )
FROM growth_group
CROSS JOIN unpriced
CROSS JOIN halo_h_totals AS totals

UNION ALL

SELECT
    'cost',
    CASE WHEN regression.excess_usd >= $cost_high_usd THEN 'high' ELSE 'medium' END,
    printf('Mean trace cost rose to $%.4f from $%.4f in the previous window',
           regression.mean_usd, regression.previous_mean_usd),
    NULL,
    'mean_trace_cost_usd',
    regression.mean_usd,
    regression.previous_mean_usd,
    regression.traces,
    examples.spans,
    regression.traces / totals.traces,
    examples.spans / totals.spans,
    0.0,
    regression.excess_usd,
    examples.failed_traces,
    examples.first_seen,
    examples.last_seen,
    examples.example_trace_ids,
    []::VARCHAR[],
    json_object(
        'previousTraces', regression.previous_traces,
        'ratio', round(regression.mean_usd / regression.previous_mean_usd, 3),
        'unpricedModels', unpriced.models
    )
FROM regression
CROSS JOIN regression_examples AS examples
CROSS JOIN unpriced
CROSS JOIN halo_h_totals AS totals
