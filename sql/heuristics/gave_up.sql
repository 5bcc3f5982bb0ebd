-- gave_up: traces that ended in a hand-off, an escalation or a give-up: the last tool call handed
-- the run over (a transfer, escalate or hand-off tool; the subject is that tool), or the last
-- substantive model message declined the task ("I was unable to determine ...", "I give up";
-- subject NULL). Traces whose top span failed are left to the failure detectors.
-- Whose fix: a decline blames the agent whose final message declined (halo_h_declining_agents, the
-- most common one), not the run's top-level agent; a hand-off keeps the registry default.
-- Why it matters: the run ends without doing the task while every span reports OK; a hand-off to
-- a human may be policy, but a rising share of them is the agent failing at its job.
-- Value: share of the window's traces ending this way; baseline: none. Impact: the time of those
-- traces. Every trace of the finding ended badly (failed_traces = traces).
-- Severity: halo_h_outcome_severity ($outcome_min_traces, $failure_high_trace_share,
-- $outcome_high_bad_share).
WITH ended AS (
    SELECT
        outcomes.trace_id,
        CASE WHEN outcomes.handed_off THEN 'handoff' ELSE 'declined' END             AS kind,
        CASE WHEN outcomes.handed_off THEN outcomes.handoff_tool END                  AS subject,
        CASE WHEN outcomes.handed_off THEN outcomes.handoff_span_id ELSE outcomes.gave_up_span_id END AS span_id,
        outcomes.declined,
        CASE WHEN NOT outcomes.handed_off THEN declining.agent END                    AS agent,
        traces.duration_ms,
        traces.first_seen,
        traces.last_seen
    FROM halo_h_outcomes AS outcomes
    JOIN halo_h_traces AS traces USING (trace_id)
    LEFT JOIN halo_h_declining_agents AS declining USING (trace_id)
    WHERE NOT outcomes.failed AND (outcomes.handed_off OR outcomes.gave_up)
),
measured AS (
    SELECT
        subject,
        kind,
        count(*)                                                        AS spans,
        count(*)                                                        AS traces,
        count(*)                                                        AS failed_traces,
        min(first_seen)                                                 AS first_seen,
        max(last_seen)                                                  AS last_seen,
        list(trace_id ORDER BY duration_ms DESC NULLS LAST, trace_id)   AS example_trace_ids,
        list(span_id ORDER BY duration_ms DESC NULLS LAST, trace_id)[1:5] AS example_span_ids,
        sum(coalesce(duration_ms, 0)) / 1000.0                          AS seconds,
        arg_min(declined, trace_id) FILTER (WHERE declined IS NOT NULL) AS sample_message,
        halo_h_most_common(list(agent ORDER BY duration_ms DESC NULLS LAST, trace_id)) AS agent
    FROM ended
    GROUP BY subject, kind
)
SELECT finding.*
FROM (
    SELECT halo_h_finding(
        'gave_up',
        halo_h_outcome_severity(measured.traces, measured.failed_traces, totals.traces, $outcome_min_traces,
                                $failure_high_trace_share, $outcome_high_bad_share),
        CASE measured.kind
            WHEN 'handoff' THEN printf('%d of %d traces ended by handing the run over with %s',
                                       measured.traces, totals.traces, measured.subject)
            ELSE printf('%d of %d traces ended with the agent declining the task: "%s"',
                        measured.traces, totals.traces, left(measured.sample_message, 100))
        END,
        'ended_trace_share',
        measured.traces / totals.traces,
        NULL::DOUBLE,
        measured,
        totals.traces,
        totals.traces,
        measured.seconds,
        NULL::DOUBLE,
        json_object('kind', measured.kind, 'sampleMessage', left(measured.sample_message, 300),
                    'fixTarget', CASE WHEN measured.agent IS NOT NULL
                                      THEN json_object('kind', 'agent', 'name', measured.agent) END)
    ) AS finding
    FROM measured
    CROSS JOIN halo_h_totals AS totals
)
