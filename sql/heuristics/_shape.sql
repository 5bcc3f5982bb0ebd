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

-- The same for a group of traces (rows of halo_h_traces, or rows of one trace each): `spans` is what
-- a trace counts (its spans, or the steps a detector counts), `failed` whether it failed.
CREATE OR REPLACE TEMP MACRO halo_h_trace_spread(spans, failed, first_seen, last_seen) AS {
    'spans': sum(spans),
    'traces': count(*),
    'failed_traces': count(*) FILTER (WHERE failed),
    'first_seen': min(first_seen),
    'last_seen': max(last_seen)
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

-- halo_h_failure_findings, halo_h_output_findings and halo_h_group_examples read a CTE of the
-- calling query, passed by its name (`measured`, `group_spans`): query_table() finds it there, so
-- a detector hands over the rows it grouped.

-- The findings of groups of failures: `measured` names a CTE with a row per group, holding the
-- columns halo_h_finding reads plus subject_spans (the calls of the group's subject, what its
-- failures are a share of: the value), title, baseline, seconds, usd and detail. Severity by
-- halo_h_failure_severity, with its thresholds.
CREATE OR REPLACE TEMP MACRO halo_h_failure_findings(measured, category, metric, high_trace_share, high_rate,
                                                     min_spans, medium_rate) AS TABLE
SELECT finding.*
FROM (
    SELECT halo_h_finding(
        category,
        halo_h_failure_severity(failure_group.failed_traces, totals.traces, failure_group.spans,
                                failure_group.spans / failure_group.subject_spans,
                                high_trace_share, high_rate, min_spans, medium_rate),
        failure_group.title,
        metric,
        failure_group.spans / failure_group.subject_spans,
        failure_group.baseline,
        failure_group,
        failure_group.subject_spans,
        totals.traces,
        failure_group.seconds,
        failure_group.usd,
        failure_group.detail
    ) AS finding
    FROM query_table(measured) AS failure_group
    CROSS JOIN halo_h_totals AS totals
);

-- The groups of failures that a retry may cure, of both such kinds (rate_limit, timeout): root-cause
-- failures of that kind grouped by subject. For each failed call, the next call to the same subject
-- in the same trace is its retry: a group counts retries, recoveries and the back-off time before
-- them (added to the impact). One statement for both kinds, each detector reading its own (`kind`,
-- its category): planning it costs more than running it on a small window. A row has the shape
-- halo_h_failure_findings reads; the title says what happened ("timed out").
CREATE OR REPLACE TEMP TABLE halo_h_retried_groups AS
WITH failed AS (
    SELECT failures.*, traces.failed AS trace_failed,
           CASE WHEN traces.failed THEN traces.trace_cost_usd END AS failed_trace_cost
    FROM halo_h_failures AS failures
    JOIN (SELECT trace_id, failed, cost_usd AS trace_cost_usd FROM halo_h_traces) AS traces USING (trace_id)
    WHERE failures.kind IN ('rate_limit', 'timeout') AND NOT failures.propagated
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
            PARTITION BY failed.kind, failed.span_type, failed.subject, failed.trace_id
            ORDER BY failed.fails_trace DESC, failed.duration_ms DESC NULLS LAST, failed.start_ns, failed.span_id
        )                                                                        AS rank_in_trace
    FROM failed
    JOIN sequence USING (trace_id, span_id)
),
grouped AS (
    SELECT
        kind,
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
            FILTER (WHERE rank_in_trace = 1))                      AS example_trace_ids,
        arg_min(signature, (start_ns, span_id))                         AS signature,
        arg_min(message, (start_ns, span_id))                           AS sample_message
    FROM attempts
    GROUP BY kind, span_type, subject
)
SELECT
    grouped.*,
    subjects.spans                                                  AS subject_spans,
    printf('%s ' || CASE grouped.kind WHEN 'rate_limit' THEN 'was rate limited' ELSE 'timed out' END
               || ' %d time%s (%d retried, %d recovered, %d trace%s failed)',
           grouped.subject, grouped.spans, CASE WHEN grouped.spans = 1 THEN '' ELSE 's' END,
           grouped.retries, grouped.recovered, grouped.failed_traces,
           CASE WHEN grouped.failed_traces = 1 THEN '' ELSE 's' END) AS title,
    NULL::DOUBLE                                                    AS baseline,
    grouped.failed_trace_usd                                        AS usd,
    json_object(
        'spanType', grouped.span_type,
        'retries', grouped.retries,
        'recovered', grouped.recovered,
        'backoffSeconds', round(grouped.backoff_seconds, 3),
        'sampleMessage', left(grouped.sample_message, 300),
        'firstSignature', grouped.signature,
        'subjectSpans', subjects.spans
    )                                                               AS detail
FROM grouped
JOIN halo_h_subjects AS subjects
  ON subjects.span_type = grouped.span_type AND subjects.subject = grouped.subject;

-- The findings of an output problem of models (truncation, refusal, empty output): `measured`
-- names a CTE with a row per model (subject), holding the columns halo_h_finding reads plus
-- seconds, usd and detail. The value is the share of the model's calls with usage; severity by
-- halo_h_output_severity; `title_verb` says what the calls did ("hit its output limit"). The detail
-- ends with modelCalls, those calls.
CREATE OR REPLACE TEMP MACRO halo_h_output_findings(measured, category, title_verb, metric, min_spans, medium_share,
                                                    high_share) AS TABLE
SELECT finding.*
FROM (
    SELECT halo_h_finding(
        category,
        halo_h_output_severity(problem.spans, problem.spans / model_calls.calls, min_spans, medium_share, high_share),
        printf('%s ' || title_verb || ' in %d of %d calls (%.0f%%)',
               problem.subject, problem.spans, model_calls.calls, 100.0 * problem.spans / model_calls.calls),
        metric,
        problem.spans / model_calls.calls,
        NULL::DOUBLE,
        problem,
        model_calls.calls,
        totals.traces,
        problem.seconds,
        problem.usd,
        json_merge_patch(problem.detail, json_object('modelCalls', model_calls.calls))
    ) AS finding
    FROM query_table(measured) AS problem
    JOIN (SELECT subject, usage_spans AS calls FROM halo_h_subjects WHERE span_type = 'llm' AND usage_spans > 0)
         AS model_calls USING (subject)
    CROSS JOIN halo_h_totals AS totals
);

-- The reach and examples of groups of many spans (every call of a flagged subject or model):
-- `group_spans` names a CTE with a row per span, holding group_key (what to group by), trace_id,
-- span_id, start_time, end_time and order_key (the best example first). Per group: when it was
-- first and last seen, the first 5 spans by order_key; its traces, failed traces, and the first
-- 5 traces by their best span. arg_min(x, key, 5) keeps the rows of the 5 smallest keys in key
-- order, as a sort would.
CREATE OR REPLACE TEMP MACRO halo_h_group_examples(group_spans) AS TABLE
SELECT per_span.*, per_trace.traces, per_trace.failed_traces, per_trace.example_trace_ids
FROM (
    SELECT
        group_key,
        min(start_time)                                                 AS first_seen,
        max(coalesce(end_time, start_time))                             AS last_seen,
        arg_min(span_id, order_key, 5)                                  AS example_span_ids
    FROM query_table(group_spans)
    GROUP BY group_key
) AS per_span
JOIN (
    SELECT
        group_traces.group_key,
        count(*)                                                        AS traces,
        count(*) FILTER (WHERE traces.failed)                           AS failed_traces,
        list(group_traces.trace_id ORDER BY group_traces.order_key)       AS example_trace_ids
    FROM (
        SELECT group_key, trace_id, min(order_key) AS order_key
        FROM query_table(group_spans)
        GROUP BY group_key, trace_id
    ) AS group_traces
    JOIN (SELECT trace_id, failed FROM halo_h_traces) AS traces USING (trace_id)
    GROUP BY group_traces.group_key
) AS per_trace USING (group_key);
