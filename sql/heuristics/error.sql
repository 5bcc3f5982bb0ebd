-- error: spans that failed (status ERROR), grouped by subject and a normalized error signature
-- (numbers, ids, paths and quoted values masked), so one bug is one finding.
-- Why it matters: a failing step wastes its time and money, and when it reaches the top of a trace
-- the whole task fails. A parent that fails only because a child failed (same error type or
-- signature, a message quoting the child's, or no error detail of its own) is not reported again:
-- its failure is credited to the root cause (detail.propagatedTo names those parents).
-- Rate limits, timeouts and missing tools have their own categories and are left out here.
-- Value: the share of the subject's calls failing with this signature; baseline: the subject's
-- failure rate in the previous window when stored; detail.subjectFailureRate: all its failures;
-- detail.sampleResult: the first failed tool call's result on one line, cut to 200 characters.
-- Thresholds: high when the failures fail >= $failure_high_trace_share of traces, or when at least
-- $failure_min_spans spans fail and the rate is >= $failure_high_rate; medium when they fail a trace,
-- recur, or the rate is >= $failure_medium_rate; else low.
WITH failures AS (
    SELECT *
    FROM halo_h_failures
    WHERE source = 'status' AND NOT propagated AND kind = 'error'
),
ordered AS (
    SELECT
        failures.*,
        row_number() OVER (
            PARTITION BY failures.span_type, failures.subject, failures.signature, failures.trace_id
            ORDER BY failures.fails_trace DESC, failures.duration_ms DESC NULLS LAST, failures.start_ns, failures.span_id
        ) AS rank_in_trace,
        traces.failed AS trace_failed,
        CASE WHEN traces.failed THEN traces.trace_cost_usd END AS failed_trace_cost
    FROM failures
    JOIN (SELECT trace_id, failed, cost_usd AS trace_cost_usd FROM halo_h_traces) AS traces USING (trace_id)
),
grouped AS (
    SELECT
        span_type,
        subject,
        signature,
        unnest(halo_h_spread(trace_id, fails_trace, start_time, end_time)),
        sum(coalesce(duration_ms, 0)) / 1000.0                          AS seconds,
        sum(failed_trace_cost) FILTER (WHERE fails_trace AND rank_in_trace = 1) AS failed_trace_usd,
        sum(cost_usd) FILTER (WHERE NOT trace_failed)                   AS span_usd,
        list(span_id ORDER BY fails_trace DESC, duration_ms DESC NULLS LAST, start_ns, span_id)[1:5] AS example_span_ids,
        (list(trace_id ORDER BY fails_trace DESC, duration_ms DESC NULLS LAST, start_ns, span_id)
            FILTER (WHERE rank_in_trace = 1))                      AS example_trace_ids,
        arg_min(message, (start_ns, span_id))                           AS sample_message,
        -- The result of a failed tool call often names the cause its status message leaves out.
        trim(regexp_replace(arg_min(result_head, (start_ns, span_id)) FILTER (WHERE result_head IS NOT NULL),
                            '\s+', ' ', 'g'))                          AS sample_result,
        arg_min(error_type, (start_ns, span_id))                        AS error_type,
        list_sort(list_distinct(flatten(list(propagated_to))))          AS propagated_to,
        sum(len(propagated_to))                                         AS propagated_spans
    FROM ordered
    GROUP BY span_type, subject, signature
),
previous AS (
    SELECT span_type, subject, avg(CASE WHEN status_code = 'error' THEN 1.0 ELSE 0.0 END) AS rate
    FROM halo_h_previous
    GROUP BY ALL
),
measured AS (
    SELECT
        grouped.*,
        subjects.spans                                                  AS subject_spans,
        printf('%s %s failed %d time%s in %d trace%s: %s',
               CASE grouped.span_type WHEN 'tool' THEN 'Tool' WHEN 'llm' THEN 'Model call' ELSE 'Span' END,
               grouped.subject, grouped.spans, CASE WHEN grouped.spans = 1 THEN '' ELSE 's' END,
               grouped.traces, CASE WHEN grouped.traces = 1 THEN '' ELSE 's' END,
               left(coalesce(nullif(grouped.signature, ''), 'no error message'), 120)) AS title,
        previous.rate                                                   AS baseline,
        CASE WHEN grouped.failed_trace_usd IS NULL AND grouped.span_usd IS NULL THEN NULL
             ELSE coalesce(grouped.failed_trace_usd, 0) + coalesce(grouped.span_usd, 0) END AS usd,
        json_object(
            'signature', grouped.signature,
            'errorType', grouped.error_type,
            'sampleMessage', left(grouped.sample_message, 500),
            'sampleResult', CASE WHEN length(grouped.sample_result) > 200
                                 THEN left(grouped.sample_result, 199) || '…' ELSE nullif(grouped.sample_result, '') END,
            'spanType', grouped.span_type,
            'subjectSpans', subjects.spans,
            'subjectFailureRate', round(subjects.failed_spans / subjects.spans, 4),
            'propagatedTo', grouped.propagated_to,
            'propagatedSpans', grouped.propagated_spans
        )                                                               AS detail
    FROM grouped
    JOIN halo_h_subjects AS subjects
      ON subjects.span_type = grouped.span_type AND subjects.subject = grouped.subject
    LEFT JOIN previous
      ON previous.span_type = grouped.span_type AND previous.subject = grouped.subject
)
SELECT *
FROM halo_h_failure_findings('measured', 'error', 'failure_rate', $failure_high_trace_share,
                             $failure_high_rate, $failure_min_spans, $failure_medium_rate)
