-- timeout: calls that failed by running out of time: TimeoutError/ReadTimeout, "timed out",
-- DEADLINE_EXCEEDED, HTTP 504/408 (in the error type or message of a failing span, or in a tool
-- result reporting failure). Propagated copies up the tree are not counted. For each timed-out
-- call, the next call to the same subject in the same trace is its retry.
-- Why it matters: a timeout burns the whole time budget of the call before failing, and usually
-- points at a slow dependency, a missing client timeout, or a too-large request.
-- Value: share of the subject's calls that timed out; baseline: none.
-- Thresholds: the failure severity rule ($failure_high_trace_share, $failure_high_rate,
-- $failure_min_spans, $failure_medium_rate).
-- The query is shared with rate_limit (halo_h_retried_groups in _shape.sql).
WITH measured AS (
    SELECT * EXCLUDE (kind) FROM halo_h_retried_groups WHERE kind = 'timeout'
)
SELECT *
FROM halo_h_failure_findings('measured', 'timeout', 'timeout_share', $failure_high_trace_share,
                             $failure_high_rate, $failure_min_spans, $failure_medium_rate)
