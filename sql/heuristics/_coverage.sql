-- What the window holds for each check to examine: one row of counters (see CheckResult), counted
-- by _prepare.sql into halo_h_totals.
SELECT
    spans,
    distinct_traces AS traces,
    finished_spans,
    tool_calls,
    tool_results,
    llm_calls,
    usage_spans,
    llm_with_finish_reason,
    llm_with_output,
    llm_with_finish_or_output,
    loop_candidates,
    declared_tool_spans
FROM halo_h_totals
