-- latency: where the agent's time goes wrong, per subject (model, tool, retriever, span name).
--   outliers:   calls far slower than their subject's robust baseline: duration >= median +
--               max($latency_outlier_mad x 1.4826 x MAD, $latency_outlier_min_excess_ms) and
--               >= $latency_outlier_min_ratio x median, for subjects with >= $latency_min_samples
--               finished calls (agent and chain wrappers excluded: their time is their children's).
--               Impact: the seconds spent above the median.
--   dominance:  a non-model subject (tool, retriever, ...) whose calls add up to
--               >= $latency_dominant_share of the agent's wall time (sum of trace extents), with
--               >= $latency_min_samples calls. Model calls dominating is the norm and not flagged.
--               Low severity: a pointer, not a fault.
--   regression: a subject's p95 >= $latency_regression_ratio x its p95 in the previous window of
--               the same length and >= $latency_regression_min_excess_ms slower (both windows with
--               >= $latency_min_samples calls). Impact: mean slowdown x calls in this window.
-- Why it matters: slow steps are the agent's wall time; an outlier points at a retry storm, a
-- huge input or a hanging dependency; a regression points at a change.
-- Severity: high when impact >= $latency_high_seconds, medium when >= $latency_medium_seconds, else low.
WITH timed AS NOT MATERIALIZED (
    SELECT *
    FROM halo_h_spans
    WHERE duration_ms IS NOT NULL AND duration_ms >= 0
),
baselines AS (
    -- Per subject, over its spans with a duration >= 0 (computed once in _prepare.sql).
    SELECT
        span_type,
        subject,
        timed_calls                                   AS calls,
        timed_quantiles[1]                            AS median_ms,
        timed_mad_ms                                  AS mad_ms,
        timed_quantiles[2]                            AS p95_ms,
        timed_quantiles[3]                            AS p99_ms,
        timed_mean_ms                                 AS mean_ms,
        timed_total_ms                                AS total_ms,
        timed_first_seen                              AS first_seen,
        timed_last_seen                               AS last_seen
    FROM halo_h_subjects
    WHERE timed_calls > 0
),
outliers AS (
    SELECT
        timed.*,
        baselines.median_ms,
        timed.duration_ms - baselines.median_ms       AS excess_ms,
        traces.failed                                 AS trace_failed,
        row_number() OVER (
            PARTITION BY timed.span_type, timed.subject, timed.trace_id
            ORDER BY timed.duration_ms DESC, timed.start_ns, timed.span_id
        )                                             AS rank_in_trace
    FROM timed
    JOIN baselines USING (span_type, subject)
    JOIN (SELECT trace_id, failed, cost_usd AS trace_cost_usd FROM halo_h_traces) AS traces USING (trace_id)
    WHERE timed.span_type NOT IN ('agent', 'chain')
      AND baselines.calls >= $latency_min_samples
      -- No span is an outlier below the lowest threshold: most spans are ruled out before the join.
      AND timed.duration_ms >= (
          SELECT min(median_ms + greatest($latency_outlier_mad * 1.4826 * mad_ms, $latency_outlier_min_excess_ms))
          FROM baselines
          WHERE span_type NOT IN ('agent', 'chain') AND calls >= $latency_min_samples)
      AND timed.duration_ms >= baselines.median_ms
          + greatest($latency_outlier_mad * 1.4826 * baselines.mad_ms, $latency_outlier_min_excess_ms)
      AND timed.duration_ms >= baselines.median_ms * $latency_outlier_min_ratio
),
outlier_groups AS (
    SELECT
        span_type,
        subject,
        unnest(halo_h_spread(trace_id, trace_failed, start_time, end_time)),
        sum(excess_ms) / 1000.0                                    AS excess_seconds,
        median(duration_ms)                                        AS typical_outlier_ms,
        max(duration_ms)                                           AS max_ms,
        list(span_id ORDER BY duration_ms DESC, start_ns, span_id)[1:5] AS example_span_ids,
        (list(trace_id ORDER BY duration_ms DESC, start_ns, span_id)
            FILTER (WHERE rank_in_trace = 1))                 AS example_trace_ids
    FROM outliers
    GROUP BY span_type, subject
),
wall AS (
    SELECT sum(duration_ms) AS wall_ms FROM halo_h_traces
),
dominant AS (
    SELECT baselines.*, baselines.total_ms / wall.wall_ms AS share
    FROM baselines
    CROSS JOIN wall
    WHERE baselines.span_type NOT IN ('agent', 'chain', 'llm')
      AND baselines.calls >= $latency_min_samples
      AND wall.wall_ms > 0
      AND baselines.total_ms / wall.wall_ms >= $latency_dominant_share
),
previous AS (
    SELECT
        span_type,
        subject,
        count(*)                                                   AS calls,
        quantile_cont(duration_ms, 0.95)                           AS p95_ms,
        avg(duration_ms)                                           AS mean_ms
    FROM halo_h_previous
    WHERE duration_ms IS NOT NULL AND duration_ms >= 0
    GROUP BY span_type, subject
),
regressed AS (
    SELECT
        baselines.*,
        previous.p95_ms                                            AS previous_p95_ms,
        previous.calls                                             AS previous_calls,
        greatest(baselines.mean_ms - previous.mean_ms, 0) * baselines.calls / 1000.0 AS excess_seconds
    FROM baselines
    JOIN previous USING (span_type, subject)
    WHERE baselines.calls >= $latency_min_samples
      AND previous.calls >= $latency_min_samples
      AND previous.p95_ms > 0
      AND baselines.p95_ms >= previous.p95_ms * $latency_regression_ratio
      AND baselines.p95_ms - previous.p95_ms >= $latency_regression_min_excess_ms
),
subject_spans AS (
    -- Every span of a dominant or regressed subject, slowest first (then by start): example spans
    -- are the slowest, example traces those whose slowest span is slowest.
    SELECT
        (timed.span_type, timed.subject)                           AS group_key,
        timed.trace_id,
        timed.span_id,
        timed.start_time,
        timed.end_time,
        (-timed.duration_ms, timed.start_ns, timed.span_id)        AS order_key
    FROM timed
    SEMI JOIN (SELECT span_type, subject FROM dominant UNION SELECT span_type, subject FROM regressed) AS flagged
           ON flagged.span_type = timed.span_type AND flagged.subject = timed.subject
),
subject_examples AS (
    SELECT * FROM halo_h_group_examples('subject_spans')
)
SELECT
    'latency'                                                       AS category,
    CASE WHEN groups.excess_seconds >= $latency_high_seconds THEN 'high'
         WHEN groups.excess_seconds >= $latency_medium_seconds THEN 'medium'
         ELSE 'low' END                                             AS severity,
    printf('%s: %d slow call%s (typically %.1f s against a median of %.1f s)',
           groups.subject, groups.spans, CASE WHEN groups.spans = 1 THEN '' ELSE 's' END,
           groups.typical_outlier_ms / 1000.0, baselines.median_ms / 1000.0) AS title,
    groups.subject                                                  AS subject,
    'outlier_duration_ms'                                           AS metric,
    groups.typical_outlier_ms                                       AS value,
    baselines.median_ms                                             AS baseline,
    groups.traces                                                   AS affected_traces,
    groups.spans                                                    AS affected_spans,
    groups.traces / totals.traces                                   AS trace_share,
    groups.spans / baselines.calls                                  AS span_share,
    groups.excess_seconds                                           AS impact_seconds,
    NULL::DOUBLE                                                    AS impact_usd,
    groups.failed_traces                                            AS failed_traces,
    groups.first_seen                                               AS first_seen,
    groups.last_seen                                                AS last_seen,
    groups.example_trace_ids                                        AS example_trace_ids,
    groups.example_span_ids                                         AS example_span_ids,
    json_object(
        'spanType', groups.span_type,
        'calls', baselines.calls,
        'p50Ms', round(baselines.median_ms, 3),
        'p95Ms', round(baselines.p95_ms, 3),
        'p99Ms', round(baselines.p99_ms, 3),
        'madMs', round(baselines.mad_ms, 3),
        'maxMs', round(groups.max_ms, 3),
        'thresholdMs', round(greatest(baselines.median_ms + greatest($latency_outlier_mad * 1.4826 * baselines.mad_ms,
                                                                     $latency_outlier_min_excess_ms),
                                      baselines.median_ms * $latency_outlier_min_ratio), 3)
    )                                                               AS detail
FROM outlier_groups AS groups
JOIN baselines USING (span_type, subject)
CROSS JOIN halo_h_totals AS totals

UNION ALL

SELECT
    'latency',
    'low',
    printf('%s takes %.0f%% of the agent''s wall time (%.1f s over %d calls)',
           dominant.subject, 100 * dominant.share, dominant.total_ms / 1000.0, dominant.calls),
    dominant.subject,
    'wall_time_share',
    dominant.share,
    $latency_dominant_share,
    examples.traces,
    dominant.calls,
    examples.traces / totals.traces,
    dominant.calls / totals.spans,
    0.0,
    NULL::DOUBLE,
    0,
    dominant.first_seen,
    dominant.last_seen,
    examples.example_trace_ids,
    examples.example_span_ids,
    json_object(
        'spanType', dominant.span_type,
        'totalSeconds', round(dominant.total_ms / 1000.0, 3),
        'p50Ms', round(dominant.median_ms, 3),
        'p95Ms', round(dominant.p95_ms, 3),
        'p99Ms', round(dominant.p99_ms, 3)
    )
FROM dominant
JOIN subject_examples AS examples ON examples.group_key = (dominant.span_type, dominant.subject)
CROSS JOIN halo_h_totals AS totals

UNION ALL

SELECT
    'latency',
    CASE WHEN regressed.excess_seconds >= $latency_high_seconds THEN 'high' ELSE 'medium' END,
    printf('%s got slower: p95 %.1f s, was %.1f s in the previous window',
           regressed.subject, regressed.p95_ms / 1000.0, regressed.previous_p95_ms / 1000.0),
    regressed.subject,
    'p95_duration_ms',
    regressed.p95_ms,
    regressed.previous_p95_ms,
    examples.traces,
    regressed.calls,
    examples.traces / totals.traces,
    1.0,
    regressed.excess_seconds,
    NULL::DOUBLE,
    examples.failed_traces,
    regressed.first_seen,
    regressed.last_seen,
    examples.example_trace_ids,
    examples.example_span_ids,
    json_object(
        'spanType', regressed.span_type,
        'calls', regressed.calls,
        'previousCalls', regressed.previous_calls,
        'p50Ms', round(regressed.median_ms, 3),
        'p95Ms', round(regressed.p95_ms, 3),
        'p99Ms', round(regressed.p99_ms, 3),
        'ratio', round(regressed.p95_ms / regressed.previous_p95_ms, 3)
    )
FROM regressed
JOIN subject_examples AS examples ON examples.group_key = (regressed.span_type, regressed.subject)
CROSS JOIN halo_h_totals AS totals
