-- rate_limit: calls refused for capacity: HTTP 429/529, RateLimitError, "overloaded",
-- RESOURCE_EXHAUSTED, quota exceeded, throttling (in the error type, status or message of a failing
-- span, or in a tool result reporting failure). Propagated copies of the same error up the tree are
-- not counted. For each limited call, the next call to the same subject in the same trace is its
-- retry: the finding counts retries, recoveries and the back-off time they waited.
-- Why it matters: rate limits add wall time (failed attempt + back-off) and, when retries run out,
-- fail the task; the cure (quota, concurrency limits, caching, a fallback model) is specific.
-- Value: share of the subject's calls that were limited; baseline: none.
-- Thresholds: the failure severity rule ($failure_high_trace_share, $failure_high_rate,
-- $failure_min_spans, $failure_medium_rate).
-- The query is shared with timeout (halo_h_retried_groups in _shape.sql).
WITH measured AS (
    SELECT * EXCLUDE (kind) FROM halo_h_retried_groups WHERE kind = 'rate_limit'
)
SELECT *
FROM halo_h_failure_findings('measured', 'rate_limit', 'rate_limited_share', $failure_high_trace_share,
                             $failure_high_rate, $failure_min_spans, $failure_medium_rate)
