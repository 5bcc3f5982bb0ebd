-- refused_retry: the agent sent a tool the same call again after the tool refused it: a tool call
-- that failed (an error status or a failure reported in its result; not a rate limit or timeout,
-- which a retry may cure) followed in the same trace by the next call to the same tool, with the
-- same arguments or near-same ones (their first 120 characters differ by at most
-- 1 - $retry_similarity of their length, in edits), which the tool refused again. A next call the
-- tool accepted had arguments that mattered: the agent corrected them, as it should. Grouped by tool.
-- Why it matters: the tool already said no; sending the call again wastes turns and shows the
-- agent did not read the refusal. The fix is in the agent (how it reads tool errors), not the tool.
-- Value: share of the tool's failed calls that were sent again; baseline: none. Impact: the time of
-- the re-sent calls. Failed traces: the affected traces that ended badly.
-- Severity: halo_h_outcome_severity ($outcome_min_traces, $failure_high_trace_share,
-- $outcome_high_bad_share).
WITH tool_calls AS (
    SELECT
        spans.trace_id, spans.span_id, spans.span_key, spans.subject, spans.start_ns, spans.start_time,
        spans.end_time, spans.duration_ms, spans.arguments_hash, spans.arguments_head, spans.is_failure,
        lead(spans.span_id) OVER same_tool         AS next_span_id,
        lead(spans.arguments_hash) OVER same_tool  AS next_hash,
        lead(spans.arguments_head) OVER same_tool  AS next_head,
        lead(spans.duration_ms) OVER same_tool     AS next_duration_ms,
        lead(spans.is_failure) OVER same_tool      AS next_failed,
        lead(spans.start_time) OVER same_tool      AS next_start_time,
        lead(spans.end_time) OVER same_tool        AS next_end_time
    FROM halo_h_spans AS spans
    WHERE spans.span_type = 'tool' AND spans.arguments_hash IS NOT NULL
      -- Tools that refused nothing in a trace are left out there, whole: no next call of theirs can
      -- be a resent one. (Matched by a 64-bit hash of trace and tool: a collision only keeps more.)
      AND spans.trace_id IS NOT NULL
      AND hash(spans.trace_id, spans.subject) IN (
          SELECT hash(trace_id, subject) FROM halo_h_failures WHERE kind NOT IN ('rate_limit', 'timeout'))
    WINDOW same_tool AS (PARTITION BY spans.trace_id, spans.subject ORDER BY spans.start_ns, spans.span_id)
),
refused AS (
    SELECT tool_calls.*, failures.signature
    FROM tool_calls
    JOIN halo_h_failures AS failures
      ON failures.span_key = tool_calls.span_key AND failures.kind NOT IN ('rate_limit', 'timeout')
),
resent AS (
    SELECT refused.*, outcomes.ended_badly, refused.next_hash = refused.arguments_hash AS identical,
           row_number() OVER (PARTITION BY refused.subject, refused.trace_id ORDER BY refused.start_ns, refused.span_id) AS rank_in_trace
    FROM refused
    JOIN halo_h_outcomes AS outcomes USING (trace_id)
    WHERE refused.next_span_id IS NOT NULL AND refused.next_failed
      AND (refused.next_hash = refused.arguments_hash
           OR 1.0 - levenshtein(refused.arguments_head, refused.next_head)
                    / greatest(length(refused.arguments_head), length(refused.next_head), 1) >= $retry_similarity)
),
measured AS (
    SELECT
        resent.subject,
        unnest(halo_h_spread(resent.trace_id, resent.ended_badly, resent.next_start_time, resent.next_end_time)),
        count(*) FILTER (WHERE resent.identical)                        AS identical,
        sum(coalesce(resent.next_duration_ms, 0)) / 1000.0              AS seconds,
        (list(resent.trace_id ORDER BY resent.ended_badly DESC, resent.start_ns, resent.span_id)
            FILTER (WHERE resent.rank_in_trace = 1))                    AS example_trace_ids,
        list(resent.next_span_id ORDER BY resent.ended_badly DESC, resent.start_ns, resent.span_id)[1:5] AS example_span_ids,
        arg_min(resent.signature, (resent.start_ns, resent.span_id))    AS signature,
        arg_min(resent.arguments_head, (resent.start_ns, resent.span_id)) AS sample_arguments,
        arg_min(resent.span_id, (resent.start_ns, resent.span_id))      AS refused_span_id
    FROM resent
    GROUP BY resent.subject
)
SELECT finding.*
FROM (
    SELECT halo_h_finding(
        'refused_retry',
        halo_h_outcome_severity(measured.traces, measured.failed_traces, totals.traces, $outcome_min_traces,
                                $failure_high_trace_share, $outcome_high_bad_share),
        printf('The agent sent %s the same call again after it refused it, %d time%s in %d trace%s: %s',
               measured.subject, measured.spans, CASE WHEN measured.spans = 1 THEN '' ELSE 's' END,
               measured.traces, CASE WHEN measured.traces = 1 THEN '' ELSE 's' END,
               left(coalesce(nullif(measured.signature, ''), 'no message'), 100)),
        'resent_share',
        measured.spans / subjects.failed_spans,
        NULL::DOUBLE,
        measured,
        subjects.failed_spans,
        totals.traces,
        measured.seconds,
        NULL::DOUBLE,
        json_object('signature', measured.signature, 'sampleArguments', measured.sample_arguments,
                    'identicalCalls', measured.identical, 'refusedSpanId', measured.refused_span_id,
                    'refusedCalls', subjects.failed_spans, 'endedBadly', measured.failed_traces)
    ) AS finding
    FROM measured
    JOIN halo_h_subjects AS subjects ON subjects.span_type = 'tool' AND subjects.subject = measured.subject
    CROSS JOIN halo_h_totals AS totals
)
