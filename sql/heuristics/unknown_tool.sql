-- unknown_tool: the agent calling tools that do not exist for it.
--   not found:  a failing span (or a tool result reporting failure) that says the tool or function
--               is unknown / not found / not available / not registered. The tool's name is taken
--               from the tool span, else from the message. Propagated copies are not counted.
--   undeclared: a tool call whose tool is not among the tools offered to the model in its trace
--               (declared_tools of the trace's model calls; traces without declarations are not
--               judged). Names are compared without case and punctuation, and a name containing the
--               other counts as declared (exporters decorate names: "mcp__weather__get_weather",
--               "tool.search.wikipedia.start").
-- Why it matters: a model calling tools it was not given is hallucinating an interface (or the
-- prompt names a tool the code no longer registers); each such call is a wasted turn.
-- Severity: not-found failures use the failure severity rule ($failure_high_trace_share,
-- $failure_high_rate, $failure_min_spans, $failure_medium_rate); undeclared calls are medium when
-- some of them failed, else low (the declaration may just not have been recorded).
WITH not_found AS (
    SELECT
        failures.*,
        coalesce(
            CASE WHEN failures.span_type = 'tool' THEN failures.tool_name END,
            nullif(regexp_extract(failures.message,
                '(?i)(?:unknown|invalid|unrecognized|unsupported|undefined) (?:tool|function)(?: name)?\s*[:=]?\s*[''"`]?([A-Za-z0-9_.:-]+)', 1), ''),
            nullif(regexp_extract(failures.message,
                '(?i)(?:tool|function)\s+[''"`]?([A-Za-z0-9_.:-]+)[''"`]?\s+(?:not found|does not exist|doesn''t exist|is not available|not registered|is not a valid)', 1), ''),
            failures.subject)                                          AS tool,
        failures.fails_trace OR (failures.source = 'result' AND traces.failed) AS failed_trace,
        CASE WHEN failures.fails_trace OR (failures.source = 'result' AND traces.failed)
             THEN traces.trace_cost_usd END                                  AS failed_trace_cost
    FROM halo_h_failures AS failures
    JOIN (SELECT trace_id, failed, cost_usd AS trace_cost_usd FROM halo_h_traces) AS traces USING (trace_id)
    WHERE failures.kind = 'unknown_tool' AND NOT failures.propagated
),
called AS (
    -- Each tool subject, normalized like the declared names.
    SELECT subject, regexp_replace(lower(subject), '[^a-z0-9]', '', 'g') AS called
    FROM halo_h_subjects
    WHERE span_type = 'tool'
),
verdicts AS (
    -- Whether a declared list (halo_h_tool_lists) declares a subject: one of its names is the
    -- called name, or one contains the other (both at least 4 characters long). Judged once per
    -- distinct list and subject, not per call.
    SELECT
        lists.tools_key,
        called.subject,
        coalesce(bool_or(lists.tool = called.called
                         OR (length(lists.tool) >= 4 AND length(called.called) >= 4
                             AND (contains(called.called, lists.tool) OR contains(lists.tool, called.called)))),
                 FALSE)                                                AS declared
    FROM halo_h_tool_lists AS lists
    CROSS JOIN called
    GROUP BY lists.tools_key, called.subject
),
undeclared_pairs AS (
    -- (trace, subject) pairs of traces with declarations where no list of the trace declares the
    -- subject; only subjects that some list does not declare can be in one.
    SELECT trace_lists.trace_id, verdicts.subject
    FROM (SELECT DISTINCT trace_id, tools_key FROM halo_h_spans WHERE tools_key IS NOT NULL) AS trace_lists
    JOIN verdicts USING (tools_key)
    WHERE verdicts.subject IN (SELECT subject FROM verdicts WHERE NOT declared)
    GROUP BY trace_lists.trace_id, verdicts.subject
    HAVING NOT bool_or(verdicts.declared)
),
undeclared AS (
    SELECT
        spans.*,
        spans.subject                                                        AS tool,
        spans.is_failure                                                     AS failed_call,
        traces.failed                                                        AS failed_trace
    FROM halo_h_spans AS spans
    JOIN undeclared_pairs USING (trace_id, subject)
    JOIN (SELECT trace_id, failed FROM halo_h_traces) AS traces USING (trace_id)
    ANTI JOIN not_found ON not_found.trace_id = spans.trace_id AND not_found.span_id = spans.span_id
    WHERE spans.span_type = 'tool'
),
not_found_ranked AS (
    SELECT *, row_number() OVER (PARTITION BY tool, trace_id ORDER BY failed_trace DESC, start_ns, span_id) AS rank_in_trace
    FROM not_found
),
undeclared_ranked AS (
    SELECT *, row_number() OVER (PARTITION BY tool, trace_id ORDER BY failed_call DESC, start_ns, span_id) AS rank_in_trace
    FROM undeclared
),
not_found_groups AS (
    SELECT
        tool,
        unnest(halo_h_spread(trace_id, failed_trace, start_time, end_time)),
        sum(coalesce(duration_ms, 0)) / 1000.0                         AS seconds,
        sum(failed_trace_cost) FILTER (WHERE rank_in_trace = 1)        AS failed_trace_usd,
        list(span_id ORDER BY failed_trace DESC, start_ns, span_id)[1:5] AS example_span_ids,
        (list(trace_id ORDER BY failed_trace DESC, start_ns, span_id)
            FILTER (WHERE rank_in_trace = 1))                     AS example_trace_ids,
        arg_min(message, (start_ns, span_id))                          AS sample_message
    FROM not_found_ranked
    GROUP BY tool
),
undeclared_groups AS (
    SELECT
        tool,
        unnest(halo_h_spread(trace_id, failed_trace, start_time, end_time)),
        count(*) FILTER (WHERE failed_call)                            AS failed_calls,
        sum(coalesce(duration_ms, 0)) / 1000.0                         AS seconds,
        list(span_id ORDER BY failed_call DESC, start_ns, span_id)[1:5] AS example_span_ids,
        (list(trace_id ORDER BY failed_call DESC, start_ns, span_id)
            FILTER (WHERE rank_in_trace = 1))                     AS example_trace_ids
    FROM undeclared_ranked
    GROUP BY tool
)
SELECT
    'unknown_tool'                                                     AS category,
    halo_h_failure_severity(groups.failed_traces, totals.traces, groups.spans,
                            groups.spans / greatest(totals.tool_calls, groups.spans),
                            $failure_high_trace_share, $failure_high_rate, $failure_min_spans,
                            $failure_medium_rate)                      AS severity,
    printf('Tool %s was called but not found %d time%s: %s',
           groups.tool, groups.spans, CASE WHEN groups.spans = 1 THEN '' ELSE 's' END,
           left(groups.sample_message, 120))                          AS title,
    groups.tool                                                        AS subject,
    'not_found_calls'                                                  AS metric,
    groups.spans                                                       AS value,
    NULL::DOUBLE                                                       AS baseline,
    groups.traces                                                      AS affected_traces,
    groups.spans                                                       AS affected_spans,
    groups.traces / totals.traces                                      AS trace_share,
    groups.spans / greatest(totals.tool_calls, groups.spans)           AS span_share,
    groups.seconds                                                     AS impact_seconds,
    groups.failed_trace_usd                                            AS impact_usd,
    groups.failed_traces                                               AS failed_traces,
    groups.first_seen                                                  AS first_seen,
    groups.last_seen                                                   AS last_seen,
    groups.example_trace_ids                                           AS example_trace_ids,
    groups.example_span_ids                                            AS example_span_ids,
    json_object('signature', 'not_found', 'sampleMessage', left(groups.sample_message, 300)) AS detail
FROM not_found_groups AS groups
CROSS JOIN halo_h_totals AS totals

UNION ALL

SELECT
    'unknown_tool',
    CASE WHEN groups.failed_calls > 0 THEN 'medium' ELSE 'low' END,
    printf('Tool %s was called %d time%s but never declared to the model (%d failed)',
           groups.tool, groups.spans, CASE WHEN groups.spans = 1 THEN '' ELSE 's' END, groups.failed_calls),
    groups.tool,
    'undeclared_calls',
    groups.spans,
    NULL::DOUBLE,
    groups.traces,
    groups.spans,
    groups.traces / totals.traces,
    groups.spans / greatest(totals.tool_calls, 1),
    groups.seconds,
    NULL::DOUBLE,
    groups.failed_traces,
    groups.first_seen,
    groups.last_seen,
    groups.example_trace_ids,
    groups.example_span_ids,
    json_object('signature', 'undeclared', 'failedCalls', groups.failed_calls)
FROM undeclared_groups AS groups
CROSS JOIN halo_h_totals AS totals
