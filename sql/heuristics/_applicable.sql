-- Which detectors can find anything in this window, read after the whole set-up: a row per
-- category that has a cheap necessary condition (categories not listed always run). Each condition
-- is what the detector's own first filter requires of the tables it reads: when it is FALSE, the
-- detector returns no rows, so it is not run (its planning alone costs more than a small window's
-- rows). Detectors whose set-up table was not built are skipped by analysis.py. (One row per
-- condition: EXISTS subqueries side by side in one row cost 20 ms to plan, these under 2.)
-- loop.sql: a trace with $loop_min_repeats tool calls, or as many model outputs long enough to be
-- compared (a repeat needs that many in one trace; counted per trace in _prepare.sql)
SELECT 'loop' AS category, max(tool_calls) >= $loop_min_repeats AS applicable FROM halo_h_traces
UNION ALL
SELECT 'loop', max(comparable_outputs) >= $loop_min_repeats FROM halo_h_traces
-- unknown_tool.sql: root-cause failures of kind unknown_tool, or a tool some declared list does
-- not declare (its verdicts, judged as it judges them: per distinct list and tool subject)
UNION ALL
SELECT 'unknown_tool', count(*) > 0 FROM halo_h_failures WHERE kind = 'unknown_tool' AND NOT propagated
UNION ALL
SELECT 'unknown_tool', count(*) > 0
FROM (
    SELECT lists.tools_key, called.subject
    FROM halo_h_tool_lists AS lists
    CROSS JOIN (SELECT subject, regexp_replace(lower(subject), '[^a-z0-9]', '', 'g') AS called
                FROM halo_h_subjects WHERE span_type = 'tool') AS called
    GROUP BY lists.tools_key, called.subject
    HAVING NOT coalesce(bool_or(lists.tool = called.called
                                OR (length(lists.tool) >= 4 AND length(called.called) >= 4
                                    AND (contains(called.called, lists.tool) OR contains(lists.tool, called.called)))),
                        FALSE)
)
-- truncation.sql: a model call's finish reason (halo_h_finish_reasons lists them); refusal.sql:
-- the same, or an output that reads as a refusal
UNION ALL
SELECT unnest(['truncation', 'refusal']), count(*) > 0 FROM halo_h_finish_reasons
UNION ALL
SELECT 'refusal', count(*) > 0 FROM halo_h_spans WHERE text_refusal
-- refused_retry.sql: a failing tool call other than a rate limit or timeout
UNION ALL
SELECT 'refused_retry', count(*) > 0 FROM halo_h_failures WHERE span_type = 'tool' AND kind NOT IN ('rate_limit', 'timeout')
-- gave_up.sql: a trace that did not fail and was handed off or declined
UNION ALL
SELECT 'gave_up', count(*) > 0 FROM halo_h_outcomes WHERE NOT failed AND (handed_off OR gave_up)
-- incapability.sql: an output claiming it cannot do something of a known capability; stall.sql:
-- a stall or replan marker in an output or a tool result
UNION ALL
SELECT 'incapability', count(*) > 0 FROM halo_h_texts WHERE claim IS NOT NULL AND capability IS NOT NULL
UNION ALL
SELECT 'stall', count(*) > 0 FROM halo_h_texts WHERE stall_marker IS NOT NULL
-- assumed_data.sql: a model call that says it works from assumed data
UNION ALL
SELECT 'assumed_data', count(*) > 0 FROM halo_h_spans WHERE assumes_data
-- unsupported_claim.sql: a fact a model call stated first (halo_h_claims)
UNION ALL
SELECT 'unsupported_claim', count(*) > 0 FROM halo_h_claims
-- empty_output.sql: its candidates' filter, without the patterns
UNION ALL
SELECT 'empty_output', count(*) > 0
FROM halo_h_spans
WHERE span_type = 'llm' AND counts_usage AND coalesce(output_chars, 0) = 0
  AND (output_tokens = 0 OR (output_tokens IS NULL AND output_blank)) AND NOT is_error AND end_ns IS NOT NULL
-- cost.sql, one row per part. Costly traces: the costliest priced trace passes both of its
-- thresholds (each a lower bound on a trace's cost, so if any trace passes, it does), among enough
-- priced traces; regression: enough priced traces here and priced spans in the previous window.
UNION ALL
SELECT 'cost', count(*) >= $cost_min_traces
               AND max(cost_usd) >= $cost_outlier_ratio * median(cost_usd)
               AND max(cost_usd) - median(cost_usd) >= $cost_outlier_min_excess_usd
FROM halo_h_traces
WHERE cost_usd IS NOT NULL
UNION ALL
SELECT 'cost', (SELECT count(*) FROM halo_h_traces WHERE cost_usd IS NOT NULL) >= $cost_min_traces AND count(*) > 0
FROM halo_h_previous
WHERE counts_usage AND cost_usd IS NOT NULL
-- model choice: two models at a call site, each with enough priced calls (an llm subject is its
-- model; its calls with usage include its priced ones)
UNION ALL
SELECT 'cost', count(*) >= 2 FROM halo_h_subjects WHERE span_type = 'llm' AND usage_spans >= $cost_model_min_calls
-- context growth: a trace with enough model calls (llm_calls counts every one with usage, a
-- superset of the turns that carry input tokens)
UNION ALL
SELECT 'cost', max(llm_calls) >= $context_growth_min_turns FROM halo_h_traces
-- latency.sql, one row per part. Outliers: a subject with a baseline whose slowest call passes its
-- thresholds; dominance: a non-model subject taking its share of the wall time; regression: a
-- subject with a baseline and a previous window.
UNION ALL
SELECT 'latency', count(*) > 0
FROM halo_h_subjects
WHERE span_type NOT IN ('agent', 'chain') AND timed_calls > 0 AND timed_calls >= $latency_min_samples
  AND max_ms >= timed_quantiles[1] + greatest($latency_outlier_mad * 1.4826 * timed_mad_ms, $latency_outlier_min_excess_ms)
  AND max_ms >= timed_quantiles[1] * $latency_outlier_min_ratio
UNION ALL
SELECT 'latency', count(*) > 0
FROM halo_h_subjects
CROSS JOIN (SELECT sum(duration_ms) AS wall_ms FROM halo_h_traces) AS wall
WHERE span_type NOT IN ('agent', 'chain', 'llm') AND timed_calls > 0 AND timed_calls >= $latency_min_samples
  AND wall.wall_ms > 0 AND timed_total_ms / wall.wall_ms >= $latency_dominant_share
UNION ALL
SELECT 'latency', (SELECT count(*) FROM halo_h_subjects WHERE timed_calls > 0 AND timed_calls >= $latency_min_samples) > 0
                  AND count(*) > 0
FROM halo_h_previous
-- long_run.sql: a norm needs $long_run_min_traces traces; excessive_steps.sql: a trace over a
-- ceiling, or $steps_min_traces traces for a median
UNION ALL
SELECT 'long_run', count(*) >= $long_run_min_traces FROM halo_h_traces
UNION ALL
SELECT 'excessive_steps', count(*) >= $steps_min_traces OR max(llm_calls) >= $steps_max_llm_calls
                          OR max(tool_calls) >= $steps_max_tool_calls
FROM halo_h_traces
-- data_quality.sql: a span with one of the problems it reports (counted in _prepare.sql)
UNION ALL
SELECT 'data_quality', data_problem_spans > 0 FROM halo_h_totals
