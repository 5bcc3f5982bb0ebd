-- error: spans that failed (status ERROR), as root causes, one finding per subject and component to
-- fix: the reasons (error signatures with numbers, ids, paths and quoted values masked; for a
-- generic status such as an exit code, the exception that ended the result) are listed inside it
-- with their counts and a sample each (halo_h_failure_groups, _attribution.sql).
-- Why it matters: a failing step wastes its time and money, and when it reaches the top of a trace
-- the whole task fails. A parent that fails only because a child failed (same error type or
-- signature, a message quoting the child's, or no error detail of its own) is not reported again:
-- its failure is credited to the root cause (detail.propagatedTo names those parents).
-- Whose fix: detail.fixTarget (_attribution.sql): the agent whose code or arguments failed, the
-- tool that crashed, the infrastructure, the model, or the agent span that failed.
-- Rate limits, timeouts and missing tools have their own categories and are left out here.
-- Value: the share of the subject's calls failing in this group; baseline: the subject's failure
-- rate in the previous window when stored; detail.subjectFailureRate: all its failures;
-- detail.sampleResult: the first failed tool call's result on one line, cut to 200 characters.
-- Thresholds: high when the failures fail >= $failure_high_trace_share of traces, or when at least
-- $failure_min_spans spans fail and the rate is >= $failure_high_rate; medium when they fail a trace,
-- recur, or the rate is >= $failure_medium_rate; else low.
WITH previous AS (
    SELECT span_type, subject, avg(CASE WHEN status_code = 'error' THEN 1.0 ELSE 0.0 END) AS rate
    FROM halo_h_previous
    GROUP BY ALL
),
measured AS (
    SELECT
        grouped.*,
        halo_h_attributed_title(grouped)                                AS title,
        previous.rate                                                   AS baseline,
        CASE WHEN grouped.failed_trace_usd IS NULL AND grouped.span_usd IS NULL THEN NULL
             ELSE coalesce(grouped.failed_trace_usd, 0) + coalesce(grouped.span_usd, 0) END AS usd,
        halo_h_attributed_detail(grouped)                               AS detail
    FROM (SELECT * EXCLUDE (failure_source) FROM halo_h_failure_groups WHERE failure_source = 'status') AS grouped
    LEFT JOIN previous
      ON previous.span_type = grouped.span_type AND previous.subject = grouped.subject
)
SELECT *
FROM halo_h_failure_findings('measured', 'error', 'failure_rate', $failure_high_trace_share,
                             $failure_high_rate, $failure_min_spans, $failure_medium_rate)
