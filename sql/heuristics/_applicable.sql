-- Which detectors can find anything in this window, read after the whole set-up: a row per
-- category that has a cheap necessary condition (categories not listed always run). Each condition
-- is what the detector's own first filter requires of the tables it reads: when it is FALSE, the
-- detector returns no rows, so it is not run (its planning alone costs more than a small window's
-- rows). Detectors whose set-up table was not built are skipped by analysis.py. (One row per
-- condition: EXISTS subqueries side by side in one row cost 20 ms to plan, these under 2.)
-- loop.sql: tool calls with arguments or model calls with output text, compared by hash
SELECT 'loop' AS category, loop_candidates > 0 AS applicable FROM halo_h_totals
-- unknown_tool.sql: root-cause failures of kind unknown_tool, or declared tool lists to compare
-- the tools called with
UNION ALL
SELECT 'unknown_tool', count(*) > 0 FROM halo_h_failures WHERE kind = 'unknown_tool' AND NOT propagated
UNION ALL
SELECT 'unknown_tool', count(*) > 0 FROM halo_h_tool_lists
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
-- cost.sql: priced usage (costly traces, pricey models, regressions) or model calls with input
-- tokens (context growth)
UNION ALL
SELECT 'cost', count(*) > 0
FROM halo_h_spans
WHERE counts_usage AND (cost_usd IS NOT NULL OR (span_type = 'llm' AND input_tokens IS NOT NULL))
-- long_run.sql: a norm needs $long_run_min_traces traces; excessive_steps.sql: a trace over a
-- ceiling, or $steps_min_traces traces for a median
UNION ALL
SELECT 'long_run', count(*) >= $long_run_min_traces FROM halo_h_traces
UNION ALL
SELECT 'excessive_steps', count(*) >= $steps_min_traces OR max(llm_calls) >= $steps_max_llm_calls
                          OR max(tool_calls) >= $steps_max_tool_calls
FROM halo_h_traces
