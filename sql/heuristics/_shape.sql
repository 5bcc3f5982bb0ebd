-- Shared pieces of the detectors (files starting with "_" are not detectors), run after
-- _prepare.sql: the table macros below read its TEMP tables, which must exist when they are created.
-- Statements are separated by a semicolon at the end of a line.

-- How far a group of spans reaches, the columns every finding reports: spans, traces, traces that
-- failed (`failed`: the row's trace failed) and when the group was first and last seen. Aggregates:
-- a detector expands them into its grouped columns with `unnest(halo_h_spread(...))`.
CREATE OR REPLACE TEMP MACRO halo_h_spread(trace_id, failed, start_time, end_time) AS {
    'spans': count(*),
    'traces': count(DISTINCT trace_id),
    'failed_traces': count(DISTINCT trace_id) FILTER (WHERE failed),
    'first_seen': min(start_time),
    'last_seen': max(coalesce(end_time, start_time))
};

-- One finding in the findings shape (FINDING_COLUMNS, in order): a STRUCT that a detector expands
-- into columns with `SELECT finding.* FROM (SELECT halo_h_finding(...) AS finding FROM ...)` (which
-- DuckDB plans faster than unnest() of the STRUCT). `measured` is the row of a group of spans
-- (pass the CTE's name) with the columns subject, spans, traces, failed_traces, first_seen,
-- last_seen, example_trace_ids and example_span_ids; `span_total` and `trace_total` are what the
-- group's spans and traces are shares of (the subject's calls, the window's traces, ...).
CREATE OR REPLACE TEMP MACRO halo_h_finding(category, severity, title, metric, value, baseline, measured,
                                            span_total, trace_total, impact_seconds, impact_usd, detail) AS {
    'category': category,
    'severity': severity,
    'title': title,
    'subject': measured.subject,
    'metric': metric,
    'value': value,
    'baseline': baseline,
    'affected_traces': measured.traces,
    'affected_spans': measured.spans,
    'trace_share': measured.traces / trace_total,
    'span_share': measured.spans / span_total,
    'impact_seconds': impact_seconds,
    'impact_usd': impact_usd,
    'failed_traces': measured.failed_traces,
    'first_seen': measured.first_seen,
    'last_seen': measured.last_seen,
    'example_trace_ids': measured.example_trace_ids,
    'example_span_ids': measured.example_span_ids,
    'detail': detail
};

-- Severity from the dollars a finding costs (cost findings).
CREATE OR REPLACE TEMP MACRO halo_h_usd_severity(usd, high_usd, medium_usd) AS
    CASE WHEN usd >= high_usd THEN 'high' WHEN usd >= medium_usd THEN 'medium' ELSE 'low' END;

-- The findings of failures that a retry may cure, of one failure kind (rate_limit, timeout):
-- root-cause failures of that kind grouped by subject. For each failed call, the next call to the
-- same subject in the same trace is its retry: a finding counts retries, recoveries and the
-- back-off time before them (added to the impact). The category is the kind; `title_verb` says
-- what happened ("timed out"), `metric` names the share of the subject's calls it happened to.
-- The thresholds are those of halo_h_failure_severity.
CREATE OR REPLACE TEMP MACRO halo_h_retried_failures(failure_kind, title_verb, metric, high_trace_share, high_rate,
                                                     min_spans, medium_rate) AS TABLE
WITH failed AS (
    SELECT failures.*, traces.failed AS trace_failed,
           CASE WHEN traces.failed THEN traces.trace_cost_usd END AS failed_trace_cost
    FROM halo_h_failures AS failures
    JOIN (SELECT trace_id, failed, cost_usd AS trace_cost_usd FROM halo_h_traces) AS traces USING (trace_id)
    WHERE failures.kind = failure_kind AND NOT failures.propagated
),
sequence AS (
    SELECT
        spans.trace_id, spans.span_id,
        lead(spans.start_ns) OVER same_subject    AS next_start_ns,
        lead(spans.is_error) OVER same_subject    AS next_error
    FROM halo_h_spans AS spans
    SEMI JOIN (SELECT DISTINCT trace_id, span_type, subject FROM failed) AS keys
           ON keys.trace_id = spans.trace_id AND keys.span_type = spans.span_type AND keys.subject = spans.subject
    WINDOW same_subject AS (PARTITION BY spans.trace_id, spans.span_type, spans.subject ORDER BY spans.start_ns, spans.span_id)
),
attempts AS (
    SELECT
        failed.*,
        failed.fails_trace OR (failed.source = 'result' AND failed.trace_failed) AS failed_trace,
        sequence.next_start_ns IS NOT NULL                                       AS retried,
        sequence.next_start_ns IS NOT NULL AND NOT sequence.next_error          AS recovered,
        CASE WHEN sequence.next_start_ns IS NOT NULL
             THEN greatest(sequence.next_start_ns - coalesce(failed.end_ns, failed.start_ns), 0) / 1e9
             ELSE 0 END                                                          AS backoff_seconds,
        row_number() OVER (
            PARTITION BY failed.span_type, failed.subject, failed.trace_id
            ORDER BY failed.fails_trace DESC, failed.duration_ms DESC NULLS LAST, failed.start_ns, failed.span_id
        )                                                                        AS rank_in_trace
    FROM failed
    JOIN sequence USING (trace_id, span_id)
),
grouped AS (
    SELECT
        span_type,
        subject,
        unnest(halo_h_spread(trace_id, failed_trace, start_time, end_time)),
        count(*) FILTER (WHERE retried)                                 AS retries,
        count(*) FILTER (WHERE recovered)                               AS recovered,
        sum(backoff_seconds)                                            AS backoff_seconds,
        sum(coalesce(duration_ms, 0)) / 1000.0 + sum(backoff_seconds)   AS seconds,
        sum(failed_trace_cost) FILTER (WHERE failed_trace AND rank_in_trace = 1) AS failed_trace_usd,
        list(span_id ORDER BY failed_trace DESC, duration_ms DESC NULLS LAST, start_ns, span_id)[1:5] AS example_span_ids,
        (list(trace_id ORDER BY failed_trace DESC, duration_ms DESC NULLS LAST, start_ns, span_id)
            FILTER (WHERE rank_in_trace = 1))[1:5]                      AS example_trace_ids,
        arg_min(signature, (start_ns, span_id))                         AS signature,
        arg_min(message, (start_ns, span_id))                           AS sample_message
    FROM attempts
    GROUP BY span_type, subject
)
SELECT finding.*
FROM (
    SELECT halo_h_finding(
        failure_kind,
        halo_h_failure_severity(grouped.failed_traces, totals.traces, grouped.spans,
                                grouped.spans / subjects.spans, high_trace_share, high_rate, min_spans, medium_rate),
        printf('%s ' || title_verb || ' %d time%s (%d retried, %d recovered, %d trace%s failed)',
               grouped.subject, grouped.spans, CASE WHEN grouped.spans = 1 THEN '' ELSE 's' END,
               grouped.retries, grouped.recovered, grouped.failed_traces,
               CASE WHEN grouped.failed_traces = 1 THEN '' ELSE 's' END),
        metric,
        grouped.spans / subjects.spans,
        NULL::DOUBLE,
        grouped,
        subjects.spans,
        totals.traces,
        grouped.seconds,
        grouped.failed_trace_usd,
        json_object(
            'spanType', grouped.span_type,
            'retries', grouped.retries,
            'recovered', grouped.recovered,
            'backoffSeconds', round(grouped.backoff_seconds, 3),
            'sampleMessage', left(grouped.sample_message, 300),
            'firstSignature', grouped.signature,
            'subjectSpans', subjects.spans
        )
    ) AS finding
    FROM grouped
    JOIN halo_h_subjects AS subjects
      ON subjects.span_type = grouped.span_type AND subjects.subject = grouped.subject
    CROSS JOIN halo_h_totals AS totals
);

-- Model calls per model (subject): what output problems (truncation, refusal, empty output) are a share of.
CREATE OR REPLACE TEMP MACRO halo_h_model_calls() AS TABLE
SELECT subject, usage_spans AS calls
FROM halo_h_subjects
WHERE span_type = 'llm' AND usage_spans > 0;

-- The finding of an output problem of a model: `measured` (a group as for halo_h_finding, plus
-- seconds and usd) out of `model_calls` calls; severity by halo_h_output_severity; `title_verb`
-- says what the calls did ("hit its output limit").
CREATE OR REPLACE TEMP MACRO halo_h_output_finding(category, title_verb, metric, measured, model_calls, trace_total,
                                                   detail, min_spans, medium_share, high_share) AS
    halo_h_finding(
        category,
        halo_h_output_severity(measured.spans, measured.spans / model_calls, min_spans, medium_share, high_share),
        printf('%s ' || title_verb || ' in %d of %d calls (%.0f%%)',
               measured.subject, measured.spans, model_calls, 100.0 * measured.spans / model_calls),
        metric,
        measured.spans / model_calls,
        NULL::DOUBLE,
        measured,
        model_calls,
        trace_total,
        measured.seconds,
        measured.usd,
        detail
    );
