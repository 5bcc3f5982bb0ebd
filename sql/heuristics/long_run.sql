-- long_run: traces far longer than the agent's norm, by wall time or by steps (model plus tool
-- calls), judged with robust statistics of the window's traces: a trace is flagged when its value
-- is above the $long_run_percentile percentile, above median + $long_run_mad x MAD (median absolute
-- deviation) and at least $long_run_min_ratio x the median, once >= $long_run_min_traces traces
-- give a norm. One finding per measure (metric trace_duration_ms or trace_steps).
-- Why it matters: a run far past the norm is usually an agent that lost its way (retrying,
-- replanning, missing its stop condition), even when every span is OK; a fixed multiple of the
-- median misses it in agents whose runs vary a lot and over-flags agents whose runs barely vary.
-- Value: median of the flagged traces; baseline: the agent's median. Impact: the time beyond the
-- median in the flagged traces. Failed traces: flagged traces that ended badly.
-- Severity: halo_h_outcome_severity ($outcome_min_traces, $failure_high_trace_share,
-- $outcome_high_bad_share).
WITH measures AS (
    SELECT traces.trace_id, 'trace_duration_ms' AS metric, 'wall time (ms)' AS label,
           traces.duration_ms AS amount, traces.duration_ms, traces.first_seen, traces.last_seen,
           outcomes.ended_badly, traces.top_span_id
    FROM halo_h_traces AS traces JOIN halo_h_outcomes AS outcomes USING (trace_id)
    WHERE traces.duration_ms > 0
    UNION ALL
    SELECT traces.trace_id, 'trace_steps', 'steps', traces.llm_calls + traces.tool_calls,
           traces.duration_ms, traces.first_seen, traces.last_seen, outcomes.ended_badly, traces.top_span_id
    FROM halo_h_traces AS traces JOIN halo_h_outcomes AS outcomes USING (trace_id)
    WHERE traces.llm_calls + traces.tool_calls > 0
),
norms AS (
    SELECT metric, count(*) AS traces, median(amount) AS median_amount,
           quantile_cont(amount, $long_run_percentile) AS high_amount, mad(amount) AS mad_amount
    FROM measures
    GROUP BY metric
    HAVING count(*) >= $long_run_min_traces
),
flagged AS (
    SELECT measures.*, norms.median_amount, norms.high_amount, norms.mad_amount,
           greatest(measures.amount - norms.median_amount, 0) / measures.amount AS extra_share
    FROM measures
    JOIN norms USING (metric)
    WHERE measures.amount > norms.high_amount
      AND measures.amount > norms.median_amount + $long_run_mad * norms.mad_amount
      AND measures.amount >= $long_run_min_ratio * norms.median_amount
),
measured AS (
    SELECT
        NULL::VARCHAR                                                   AS subject,
        flagged.metric,
        any_value(flagged.label)                                        AS label,
        unnest(halo_h_trace_spread(1, flagged.ended_badly, flagged.first_seen, flagged.last_seen)),
        median(flagged.amount)                                          AS typical_amount,
        max(flagged.amount)                                             AS max_amount,
        any_value(flagged.median_amount)                                AS median_amount,
        any_value(flagged.high_amount)                                  AS high_amount,
        any_value(flagged.mad_amount)                                   AS mad_amount,
        sum(coalesce(flagged.duration_ms, 0) * flagged.extra_share) / 1000.0 AS seconds,
        list(flagged.trace_id ORDER BY flagged.ended_badly DESC, flagged.amount DESC, flagged.trace_id) AS example_trace_ids,
        (list(flagged.top_span_id ORDER BY flagged.ended_badly DESC, flagged.amount DESC, flagged.trace_id)
            FILTER (WHERE flagged.top_span_id IS NOT NULL))[1:5]        AS example_span_ids
    FROM flagged
    GROUP BY flagged.metric
)
SELECT finding.*
FROM (
    SELECT halo_h_finding(
        'long_run',
        halo_h_outcome_severity(measured.traces, measured.failed_traces, totals.traces, $outcome_min_traces,
                                $failure_high_trace_share, $outcome_high_bad_share),
        printf('%d trace%s ran far longer than the agent''s norm in %s (up to %d; median %s, p%d %s; %d ended badly)',
               measured.traces, CASE WHEN measured.traces = 1 THEN '' ELSE 's' END, measured.label,
               CAST(round(measured.max_amount) AS BIGINT), CAST(round(measured.median_amount, 1) AS VARCHAR),
               CAST(round(100 * $long_run_percentile) AS INTEGER), CAST(round(measured.high_amount, 1) AS VARCHAR),
               measured.failed_traces),
        measured.metric,
        measured.typical_amount,
        measured.median_amount,
        measured,
        totals.traces,
        totals.traces,
        measured.seconds,
        NULL::DOUBLE,
        json_object('median', measured.median_amount, 'highPercentile', measured.high_amount,
                    'mad', measured.mad_amount, 'maxValue', measured.max_amount,
                    'endedBadly', measured.failed_traces)
    ) AS finding
    FROM measured
    CROSS JOIN halo_h_totals AS totals
)
