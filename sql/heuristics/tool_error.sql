-- tool_error: tool calls whose span status is unset or OK but whose result reports a failure as
-- data: "Error: ...", "An error occurred ...", a Python traceback, a JSON object with a non-empty
-- "error" (or isError/success=false/status=error), or a non-zero exit code. One finding per tool
-- and component to fix, its reasons listed inside (halo_h_failure_groups, _attribution.sql).
-- Why it matters: many frameworks hand a failing tool's error back to the model as its result and
-- leave the span OK, so these failures are invisible to status-based error counts, yet they cost a
-- turn each and often derail the task.
-- Whose fix: detail.fixTarget, as for error (the agent whose code or arguments failed, the tool,
-- the infrastructure).
-- Value: failure rate of the tool in this group (reported failures / its calls); baseline: none.
-- Thresholds: the failure severity rule ($failure_high_trace_share, $failure_high_rate,
-- $failure_min_spans, $failure_medium_rate); failed traces are affected traces whose top span failed.
WITH measured AS (
    SELECT
        grouped.*,
        halo_h_attributed_title(grouped)                                AS title,
        NULL::DOUBLE                                                    AS baseline,
        grouped.failed_trace_usd                                        AS usd,
        halo_h_attributed_detail(grouped)                               AS detail
    FROM (SELECT * EXCLUDE (failure_source) FROM halo_h_failure_groups WHERE failure_source = 'result') AS grouped
)
SELECT *
FROM halo_h_failure_findings('measured', 'tool_error', 'failure_rate', $failure_high_trace_share,
                             $failure_high_rate, $failure_min_spans, $failure_medium_rate)
