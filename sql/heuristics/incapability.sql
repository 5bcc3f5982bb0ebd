-- incapability: the model claims it cannot see or do something ("I cannot browse the web", "we do
-- not have access to the file") while the agent has a tool that does it: a tool offered on that call
-- (its declared tools) or one the agent called in the window, whose name provides what the claim
-- is about (web, code, media, files, data: halo_h_capability and halo_h_tool_provides). Grouped by
-- the capability; the subject is the capability.
-- Why it matters: the agent abandons or fakes a step it could have done with its own tool; the
-- fix is in the agent's prompt or tool descriptions, not in the tool.
-- Value: share of the window's traces with such a claim; baseline: none. Impact: none measured.
-- Severity: halo_h_outcome_severity ($outcome_min_traces, $failure_high_trace_share,
-- $outcome_high_bad_share), counting the claims' traces that ended badly.
WITH claims AS (
    SELECT spans.trace_id, spans.span_id, spans.start_ns, spans.start_time, spans.end_time, spans.tools_key,
           texts.claim, texts.capability
    FROM halo_h_texts AS texts
    JOIN halo_h_spans AS spans USING (span_key)
    WHERE texts.claim IS NOT NULL AND texts.capability IS NOT NULL
),
window_tools AS (
    SELECT DISTINCT regexp_replace(lower(subject), '[^a-z0-9]', '', 'g') AS tool
    FROM halo_h_spans
    WHERE span_type = 'tool' AND subject IS NOT NULL
),
contradicted AS (
    SELECT claims.*, tools.tool
    FROM claims
    JOIN LATERAL (
        SELECT min(tool) AS tool
        FROM (SELECT tool FROM halo_h_tool_lists AS lists WHERE lists.tools_key = claims.tools_key
              UNION ALL SELECT tool FROM window_tools) AS offered
        WHERE halo_h_tool_provides(offered.tool, claims.capability)
    ) AS tools ON tools.tool IS NOT NULL
),
per_trace AS (
    SELECT contradicted.*, outcomes.ended_badly,
           row_number() OVER (PARTITION BY capability, trace_id ORDER BY start_ns, span_id) AS rank_in_trace
    FROM contradicted
    JOIN halo_h_outcomes AS outcomes USING (trace_id)
),
measured AS (
    SELECT
        capability                                                      AS subject,
        unnest(halo_h_spread(trace_id, ended_badly, start_time, end_time)),
        (list(trace_id ORDER BY ended_badly DESC, start_ns, span_id) FILTER (WHERE rank_in_trace = 1)) AS example_trace_ids,
        list(span_id ORDER BY ended_badly DESC, start_ns, span_id)[1:5] AS example_span_ids,
        arg_min(claim, (start_ns, span_id))                             AS sample_claim,
        list(DISTINCT tool ORDER BY tool)[1:5]                          AS tools
    FROM per_trace
    GROUP BY capability
)
SELECT finding.*
FROM (
    SELECT halo_h_finding(
        'incapability',
        halo_h_outcome_severity(measured.traces, measured.failed_traces, totals.traces, $outcome_min_traces,
                                $failure_high_trace_share, $outcome_high_bad_share),
        printf('The model claimed it could not use %s in %d trace%s while the agent has %s: "%s"',
               measured.subject, measured.traces, CASE WHEN measured.traces = 1 THEN '' ELSE 's' END,
               array_to_string(measured.tools, ', '), left(measured.sample_claim, 80)),
        'claim_trace_share',
        measured.traces / totals.traces,
        NULL::DOUBLE,
        measured,
        totals.llm_calls,
        totals.traces,
        0.0,
        NULL::DOUBLE,
        json_object('capability', measured.subject, 'tools', measured.tools,
                    'sampleClaim', left(measured.sample_claim, 200), 'endedBadly', measured.failed_traces)
    ) AS finding
    FROM measured
    CROSS JOIN halo_h_totals AS totals
)
