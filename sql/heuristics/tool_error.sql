-- tool_error: tool calls whose span status is unset or OK but whose result reports a failure as
-- data: "Error: ...", "An error occurred ...", a Python traceback, a JSON object with a non-empty
-- "error" (or isError/success=false/status=error), or a non-zero exit code. Grouped by tool and a
-- normalized signature of the result's first line.
-- Why it matters: many frameworks hand a failing tool's error back to the model as its result and
-- leave the span OK, so these failures are invisible to status-based error counts, yet they cost a
-- turn each and often derail the task.
-- Value: failure rate of the tool (reported failures / its calls); baseline: none.
-- Thresholds: the failure severity rule ($failure_high_trace_share, $failure_high_rate,
-- $failure_min_spans, $failure_medium_rate); failed traces are affected traces whose top span failed.
WITH failures AS (
    SELECT
        failures.*,
        traces.failed                                                             AS trace_failed,
        CASE WHEN traces.failed THEN traces.trace_cost_usd END                          AS failed_trace_cost,
        row_number() OVER (
            PARTITION BY failures.subject, failures.signature, failures.trace_id
            ORDER BY failures.duration_ms DESC NULLS LAST, failures.start_ns, failures.span_id
        )                                                                         AS rank_in_trace
    FROM halo_h_failures AS failures
    JOIN (SELECT trace_id, failed, cost_usd AS trace_cost_usd FROM halo_h_traces) AS traces USING (trace_id)
    WHERE failures.source = 'result' AND failures.kind = 'error'
),
grouped AS (
    SELECT
        subject,
        signature,
        unnest(halo_h_spread(trace_id, trace_failed, start_time, end_time)),
        sum(coalesce(duration_ms, 0)) / 1000.0                          AS seconds,
        sum(failed_trace_cost) FILTER (WHERE rank_in_trace = 1)         AS failed_trace_usd,
        list(span_id ORDER BY trace_failed DESC, duration_ms DESC NULLS LAST, start_ns, span_id)[1:5] AS example_span_ids,
        (list(trace_id ORDER BY trace_failed DESC, duration_ms DESC NULLS LAST, start_ns, span_id)
            FILTER (WHERE rank_in_trace = 1))                      AS example_trace_ids,
        arg_min(message, (start_ns, span_id))                           AS sample_message
    FROM failures
    GROUP BY subject, signature
),
measured AS (
    SELECT
        grouped.*,
        subjects.spans                                                  AS subject_spans,
        printf('Tool %s reported failure in its result %d time%s (span status OK): %s',
               grouped.subject, grouped.spans, CASE WHEN grouped.spans = 1 THEN '' ELSE 's' END,
               left(coalesce(nullif(grouped.signature, ''), 'no message'), 120)) AS title,
        NULL::DOUBLE                                                    AS baseline,
        grouped.failed_trace_usd                                        AS usd,
        json_object(
            'signature', grouped.signature,
            'sampleResult', left(grouped.sample_message, 300),
            'subjectSpans', subjects.spans
        )                                                               AS detail
    FROM grouped
    JOIN halo_h_subjects AS subjects ON subjects.span_type = 'tool' AND subjects.subject = grouped.subject
)
SELECT *
FROM halo_h_failure_findings('measured', 'tool_error', 'failure_rate', $failure_high_trace_share,
                             $failure_high_rate, $failure_min_spans, $failure_medium_rate)
