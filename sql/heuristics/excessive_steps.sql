-- excessive_steps: traces that took far more steps than the agent usually needs, counted two ways:
-- model calls (turns) and tool calls per trace. A trace is flagged when its count is >= $steps_ratio
-- x the agent's median trace and >= median + $steps_min_extra (once >= $steps_min_traces traces give
-- a median), or in any case when it reaches $steps_max_llm_calls model calls or
-- $steps_max_tool_calls tool calls.
-- Why it matters: extra steps are extra latency and cost, and they are the signature of an agent
-- that is lost: retrying, re-planning, or missing a stop condition.
-- Value: median steps of the flagged traces; baseline: the agent's median. Impact: the share of
-- each flagged trace's time and cost beyond the median number of steps.
-- Severity: medium when several traces are flagged or one reaches the absolute ceiling, else low.
WITH baseline AS (
    SELECT
        count(*)                 AS traces,
        median(llm_calls)        AS llm_median,
        median(tool_calls)       AS tool_median
    FROM halo_h_traces
),
measured AS (
    -- (the first top span of a trace: its example span; none for spans without a trace id)
    SELECT trace_id, 'llm_calls_per_trace' AS metric, 'model calls' AS label, llm_calls AS steps,
           $steps_max_llm_calls AS ceiling, duration_ms, cost_usd, failed, first_seen, last_seen, spans,
           CASE WHEN trace_id IS NOT NULL THEN top_span_id END AS top_span_id
    FROM halo_h_traces
    UNION ALL
    SELECT trace_id, 'tool_calls_per_trace', 'tool calls', tool_calls,
           $steps_max_tool_calls, duration_ms, cost_usd, failed, first_seen, last_seen, spans,
           CASE WHEN trace_id IS NOT NULL THEN top_span_id END
    FROM halo_h_traces
),
flagged AS (
    SELECT
        measured.*,
        CASE measured.metric WHEN 'llm_calls_per_trace' THEN baseline.llm_median ELSE baseline.tool_median END AS median_steps,
        measured.steps >= measured.ceiling AS over_ceiling
    FROM measured
    CROSS JOIN baseline
    WHERE measured.steps > 0
      AND (measured.steps >= measured.ceiling
           OR (baseline.traces >= $steps_min_traces
               AND measured.steps >= $steps_ratio * CASE measured.metric WHEN 'llm_calls_per_trace'
                                                    THEN baseline.llm_median ELSE baseline.tool_median END
               AND measured.steps >= $steps_min_extra + CASE measured.metric WHEN 'llm_calls_per_trace'
                                                        THEN baseline.llm_median ELSE baseline.tool_median END))
),
weighted AS (
    SELECT flagged.*,
           greatest(flagged.steps - coalesce(flagged.median_steps, 0), 0) / flagged.steps AS extra_share
    FROM flagged
),
grouped AS (
    SELECT
        weighted.metric,
        any_value(weighted.label)                                          AS label,
        unnest(halo_h_trace_spread(weighted.steps, weighted.failed, weighted.first_seen, weighted.last_seen)),
        bool_or(weighted.over_ceiling)                                     AS over_ceiling,
        median(weighted.steps)                                             AS typical_steps,
        max(weighted.steps)                                                AS max_steps,
        any_value(weighted.median_steps)                                   AS median_steps,
        sum(coalesce(weighted.duration_ms, 0) * weighted.extra_share) / 1000.0 AS extra_seconds,
        sum(weighted.cost_usd * weighted.extra_share)                      AS extra_usd,
        list(weighted.trace_id ORDER BY weighted.steps DESC, weighted.trace_id) AS example_trace_ids,
        list(weighted.top_span_id ORDER BY weighted.steps DESC, weighted.trace_id)
            FILTER (WHERE weighted.top_span_id IS NOT NULL)               AS top_span_ids
    FROM weighted
    GROUP BY weighted.metric
)
SELECT
    'excessive_steps'                                                      AS category,
    CASE WHEN grouped.traces >= 2 OR grouped.over_ceiling THEN 'medium' ELSE 'low' END AS severity,
    printf('%d trace%s took far more %s than usual (up to %d, typically %d against a median of %s)',
           grouped.traces, CASE WHEN grouped.traces = 1 THEN '' ELSE 's' END, grouped.label,
           grouped.max_steps, CAST(grouped.typical_steps AS BIGINT),
           coalesce(CAST(round(grouped.median_steps, 1) AS VARCHAR), 'n/a'))  AS title,
    NULL                                                                   AS subject,
    grouped.metric                                                         AS metric,
    grouped.typical_steps                                                  AS value,
    grouped.median_steps                                                   AS baseline,
    grouped.traces                                                         AS affected_traces,
    grouped.spans                                                          AS affected_spans,
    grouped.traces / totals.traces                                         AS trace_share,
    grouped.spans / greatest(totals.spans, 1)                              AS span_share,
    grouped.extra_seconds                                                  AS impact_seconds,
    grouped.extra_usd                                                      AS impact_usd,
    grouped.failed_traces                                                  AS failed_traces,
    grouped.first_seen                                                     AS first_seen,
    grouped.last_seen                                                      AS last_seen,
    grouped.example_trace_ids                                              AS example_trace_ids,
    coalesce(grouped.top_span_ids, [])[1:5]                                AS example_span_ids,
    json_object(
        'maxSteps', grouped.max_steps,
        'ceiling', CASE grouped.metric WHEN 'llm_calls_per_trace' THEN $steps_max_llm_calls ELSE $steps_max_tool_calls END,
        'overCeiling', grouped.over_ceiling
    )                                                                      AS detail
FROM grouped
CROSS JOIN halo_h_totals AS totals
