-- timeout: calls that failed by running out of time: TimeoutError/ReadTimeout, "timed out",
-- DEADLINE_EXCEEDED, HTTP 504/408 (in the error type or message of a failing span, or in a tool
-- result reporting failure). Propagated copies up the tree are not counted. For each timed-out
-- call, the next call to the same subject in the same trace is its retry.
-- Why it matters: a timeout burns the whole time budget of the call before failing, and usually
-- points at a slow dependency, a missing client timeout, or a too-large request.
-- Value: share of the subject's calls that timed out; baseline: none.
-- Thresholds: the failure severity rule ($failure_high_trace_share, $failure_high_rate,
-- $failure_min_spans, $failure_medium_rate).
WITH timed_out AS (
    SELECT failures.*, traces.failed AS trace_failed,
           CASE WHEN traces.failed THEN traces.trace_cost_usd END AS failed_trace_cost
    FROM halo_h_failures AS failures
    JOIN (SELECT trace_id, failed, cost_usd AS trace_cost_usd FROM halo_h_traces) AS traces USING (trace_id)
    WHERE failures.kind = 'timeout' AND NOT failures.propagated
),
sequence AS (
    SELECT
        spans.trace_id, spans.span_id,
        lead(spans.start_ns) OVER same_subject    AS next_start_ns,
        lead(spans.status_code) OVER same_subject AS next_status
    FROM halo_h_spans AS spans
    SEMI JOIN (SELECT DISTINCT trace_id, span_type, subject FROM timed_out) AS keys
           ON keys.trace_id = spans.trace_id AND keys.span_type = spans.span_type AND keys.subject = spans.subject
    WINDOW same_subject AS (PARTITION BY spans.trace_id, spans.span_type, spans.subject ORDER BY spans.start_ns, spans.span_id)
),
attempts AS (
    SELECT
        timed_out.*,
        timed_out.fails_trace OR (timed_out.source = 'result' AND timed_out.trace_failed) AS failed_trace,
        sequence.next_start_ns IS NOT NULL                                         AS retried,
        sequence.next_start_ns IS NOT NULL AND sequence.next_status <> 'error'     AS recovered,
        CASE WHEN sequence.next_start_ns IS NOT NULL
             THEN greatest(sequence.next_start_ns - coalesce(timed_out.end_ns, timed_out.start_ns), 0) / 1e9
             ELSE 0 END                                                            AS backoff_seconds,
        row_number() OVER (
            PARTITION BY timed_out.span_type, timed_out.subject, timed_out.trace_id
            ORDER BY timed_out.fails_trace DESC, timed_out.duration_ms DESC NULLS LAST, timed_out.start_ns, timed_out.span_id
        )                                                                          AS rank_in_trace
    FROM timed_out
    JOIN sequence USING (trace_id, span_id)
),
grouped AS (
    SELECT
        span_type,
        subject,
        count(*)                                                        AS spans,
        count(DISTINCT trace_id)                                        AS traces,
        count(DISTINCT trace_id) FILTER (WHERE failed_trace)            AS failed_traces,
        count(*) FILTER (WHERE retried)                                 AS retries,
        count(*) FILTER (WHERE recovered)                               AS recovered,
        sum(backoff_seconds)                                            AS backoff_seconds,
        sum(coalesce(duration_ms, 0)) / 1000.0 + sum(backoff_seconds)   AS seconds,
        sum(failed_trace_cost) FILTER (WHERE failed_trace AND rank_in_trace = 1) AS failed_trace_usd,
        min(start_time)                                                 AS first_seen,
        max(coalesce(end_time, start_time))                             AS last_seen,
        list(span_id ORDER BY failed_trace DESC, duration_ms DESC NULLS LAST, start_ns, span_id)[1:5] AS example_span_ids,
        (list(trace_id ORDER BY failed_trace DESC, duration_ms DESC NULLS LAST, start_ns, span_id)
            FILTER (WHERE rank_in_trace = 1))[1:5]                      AS example_trace_ids,
        arg_min(signature, (start_ns, span_id))                         AS signature,
        arg_min(message, (start_ns, span_id))                           AS sample_message
    FROM attempts
    GROUP BY span_type, subject
)
SELECT
    'timeout'                                                           AS category,
    halo_h_failure_severity(grouped.failed_traces, totals.traces, grouped.spans,
                            grouped.spans / subjects.spans, $failure_high_trace_share,
                            $failure_high_rate, $failure_min_spans, $failure_medium_rate) AS severity,
    printf('%s timed out %d time%s (%d retried, %d recovered, %d trace%s failed)',
           grouped.subject, grouped.spans, CASE WHEN grouped.spans = 1 THEN '' ELSE 's' END,
           grouped.retries, grouped.recovered, grouped.failed_traces,
           CASE WHEN grouped.failed_traces = 1 THEN '' ELSE 's' END) AS title,
    grouped.subject                                                     AS subject,
    'timeout_share'                                                     AS metric,
    grouped.spans / subjects.spans                                      AS value,
    NULL::DOUBLE                                                        AS baseline,
    grouped.traces                                                      AS affected_traces,
    grouped.spans                                                       AS affected_spans,
    grouped.traces / totals.traces                                      AS trace_share,
    grouped.spans / subjects.spans                                      AS span_share,
    grouped.seconds                                                     AS impact_seconds,
    grouped.failed_trace_usd                                            AS impact_usd,
    grouped.failed_traces                                               AS failed_traces,
    grouped.first_seen                                                  AS first_seen,
    grouped.last_seen                                                   AS last_seen,
    grouped.example_trace_ids                                           AS example_trace_ids,
    grouped.example_span_ids                                            AS example_span_ids,
    json_object(
        'spanType', grouped.span_type,
        'retries', grouped.retries,
        'recovered', grouped.recovered,
        'backoffSeconds', round(grouped.backoff_seconds, 3),
        'sampleMessage', left(grouped.sample_message, 300),
        'firstSignature', grouped.signature,
        'subjectSpans', subjects.spans
    )                                                                   AS detail
FROM grouped
JOIN halo_h_subjects AS subjects
  ON subjects.span_type = grouped.span_type AND subjects.subject = grouped.subject
CROSS JOIN halo_h_totals AS totals
