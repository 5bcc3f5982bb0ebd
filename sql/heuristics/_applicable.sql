-- Which detectors can find anything in this window, read after the whole set-up: one row, a
-- column per category that has a cheap necessary condition (categories not listed always run).
-- Each condition is what the detector's own first filter requires of the tables it reads: when it
-- is FALSE, the detector returns no rows, so it is not run (its planning alone costs more than a
-- small window's rows). Detectors whose set-up table was not built are skipped by analysis.py.
SELECT
    -- loop.sql: tool calls with arguments or model calls with output text, compared by hash
    (SELECT loop_candidates > 0 FROM halo_h_totals)                                    AS loop,
    -- unknown_tool.sql: root-cause failures of kind unknown_tool, or declared tool lists to
    -- compare the tools called with
    EXISTS (SELECT 1 FROM halo_h_failures WHERE kind = 'unknown_tool' AND NOT propagated)
        OR EXISTS (SELECT 1 FROM halo_h_tool_lists)                                    AS unknown_tool,
    -- truncation.sql: a model call's finish reason (halo_h_finish_reasons lists them)
    EXISTS (SELECT 1 FROM halo_h_finish_reasons)                                       AS truncation,
    -- refusal.sql: a finish reason, or an output that reads as a refusal
    EXISTS (SELECT 1 FROM halo_h_finish_reasons)
        OR EXISTS (SELECT 1 FROM halo_h_spans WHERE text_refusal)                     AS refusal,
    -- refused_retry.sql: a failing tool call other than a rate limit or timeout
    EXISTS (SELECT 1 FROM halo_h_failures
            WHERE span_type = 'tool' AND kind NOT IN ('rate_limit', 'timeout'))        AS refused_retry,
    -- gave_up.sql: a trace that did not fail and was handed off or declined
    EXISTS (SELECT 1 FROM halo_h_outcomes WHERE NOT failed AND (handed_off OR gave_up)) AS gave_up,
    -- incapability.sql: an output claiming it cannot do something of a known capability
    EXISTS (SELECT 1 FROM halo_h_texts WHERE claim IS NOT NULL AND capability IS NOT NULL) AS incapability,
    -- stall.sql: a stall or replan marker in an output or a tool result
    EXISTS (SELECT 1 FROM halo_h_texts WHERE stall_marker IS NOT NULL)                 AS stall,
    -- assumed_data.sql: a model call that says it works from assumed data
    EXISTS (SELECT 1 FROM halo_h_spans WHERE assumes_data)                             AS assumed_data
