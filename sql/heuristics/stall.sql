-- stall: traces where the agent or its framework says it is stalling or replanning ("Stalled",
-- "replanning", "no progress", "stuck", "going in circles") in a model output or a tool result.
-- One finding for the agent: its subject is NULL.
-- Why it matters: a stall marker is the framework noticing that the agent is not progressing; the
-- run goes on with an OK status, so without reading the text the lost turns stay invisible.
-- Value: share of the window's traces with a marker; baseline: none. Impact: the time of those
-- traces after their first marker. Failed traces: those of them that ended badly (failed root,
-- hand-off, give-up, cut short).
-- Severity: halo_h_outcome_severity ($outcome_min_traces, $failure_high_trace_share,
-- $outcome_high_bad_share): high when it reaches enough traces and most of them ended badly.
WITH markers AS (
    SELECT spans.trace_id, spans.span_id, spans.start_ns, spans.start_time, spans.end_time, texts.stall_marker
    FROM halo_h_texts AS texts
    JOIN halo_h_spans AS spans USING (span_key)
    WHERE texts.stall_marker IS NOT NULL
),
per_trace AS (
    SELECT
        markers.trace_id,
        count(*)                                                          AS markers,
        min(markers.start_ns)                                             AS first_marker_ns,
        arg_min(markers.span_id, (markers.start_ns, markers.span_id))     AS first_span_id,
        min(markers.start_time)                                           AS first_seen,
        max(coalesce(markers.end_time, markers.start_time))               AS last_seen
    FROM markers
    GROUP BY markers.trace_id
),
measured AS (
    SELECT
        NULL::VARCHAR                                                     AS subject,
        sum(per_trace.markers)                                            AS spans,
        count(*)                                                          AS traces,
        count(*) FILTER (WHERE outcomes.ended_badly)                      AS failed_traces,
        min(per_trace.first_seen)                                         AS first_seen,
        max(per_trace.last_seen)                                          AS last_seen,
        list(per_trace.trace_id ORDER BY outcomes.ended_badly DESC, per_trace.markers DESC, per_trace.trace_id) AS example_trace_ids,
        list(per_trace.first_span_id ORDER BY outcomes.ended_badly DESC, per_trace.markers DESC, per_trace.trace_id)[1:5] AS example_span_ids,
        sum(greatest(traces.end_ns - per_trace.first_marker_ns, 0)) / 1e9 AS seconds,
        max(per_trace.markers)                                            AS max_markers
    FROM per_trace
    JOIN halo_h_outcomes AS outcomes USING (trace_id)
    JOIN halo_h_traces AS traces USING (trace_id)
    HAVING count(*) > 0
)
SELECT finding.*
FROM (
    SELECT halo_h_finding(
        'stall',
        halo_h_outcome_severity(measured.traces, measured.failed_traces, totals.traces, $outcome_min_traces,
                                $failure_high_trace_share, $outcome_high_bad_share),
        printf('The agent stalled or replanned in %d of %d traces (%d marker%s; %d of those traces ended badly)',
               measured.traces, totals.traces, measured.spans, CASE WHEN measured.spans = 1 THEN '' ELSE 's' END,
               measured.failed_traces),
        'stalled_trace_share',
        measured.traces / totals.traces,
        NULL::DOUBLE,
        measured,
        totals.spans,
        totals.traces,
        measured.seconds,
        NULL::DOUBLE,
        json_object(
            'markers', measured.spans,
            'maxMarkersInTrace', measured.max_markers,
            'sampleMarkers', (SELECT list(DISTINCT lower(stall_marker) ORDER BY lower(stall_marker))[1:5] FROM markers),
            'endedBadly', measured.failed_traces
        )
    ) AS finding
    FROM measured
    CROSS JOIN halo_h_totals AS totals
)
