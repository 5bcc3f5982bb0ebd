-- loop: the agent going round in circles within one trace.
--   tool repeats:   the same tool called with the same arguments (compared after JSON
--                   normalization) >= $loop_min_repeats times in one trace. The calls after the
--                   first are waste, and so is each model call that asked for one of them (the
--                   latest model call starting before it): their tokens and dollars are the impact.
--   output repeats: a model returning the identical output (>= $loop_output_min_chars characters)
--                   >= $loop_min_repeats times in one trace; the repeats after the first are waste.
--                   Repeats are counted per subject, the key they are reported by. An output that
--                   recurs in >= $loop_boilerplate_trace_share of the window's traces (once it
--                   holds >= $loop_boilerplate_min_traces traces) is boilerplate (a routing line, a
--                   hand-off marker the framework emits every turn), not a loop.
-- One finding per tool (or model), over all traces where it looped. Whose fix: an output loop
-- blames the agent whose model calls repeat (the name they state for themselves, most common
-- first; the declared agent of the calls whose output occurs more than once), not the run's
-- top-level agent; a tool loop keeps the default.
-- Why it matters: loops burn tokens without progress and usually end in a step limit or a timeout;
-- the cause is typically a tool result the model cannot use or an instruction it cannot satisfy.
-- Severity: high when one trace repeats >= $loop_high_repeats times, else medium.
-- Value: most repeats in one trace.
-- Repeats are found in two steps: calls are first counted by one 64-bit hash of (trace, tool,
-- arguments), which is cheap to group a window's calls by; only calls whose hash repeats are then
-- counted exactly, by the columns themselves (a hash collision cannot add or hide a loop).
WITH tool_calls AS NOT MATERIALIZED (
    SELECT *, hash(trace_id, subject, arguments_hash) AS call_key
    FROM halo_h_spans
    WHERE span_type = 'tool' AND arguments_hash IS NOT NULL
),
tool_loops AS (
    SELECT *
    FROM (
        SELECT
            tool_calls.*,
            count(*) OVER same_call                                        AS repeats,
            row_number() OVER (same_call ORDER BY start_ns, span_id)       AS occurrence
        FROM tool_calls
        WHERE call_key IN (
            SELECT call_key FROM tool_calls GROUP BY call_key HAVING count(*) >= $loop_min_repeats
        )
        WINDOW same_call AS (PARTITION BY trace_id, subject, arguments_hash)
    )
    WHERE repeats >= $loop_min_repeats
),
repeated_calls AS (
    SELECT DISTINCT trace_id FROM tool_loops
),
model_calls AS (
    SELECT trace_id, span_id, start_ns, input_tokens, output_tokens, cost_usd, duration_ms
    FROM halo_h_spans
    SEMI JOIN repeated_calls USING (trace_id)
    WHERE span_type = 'llm' AND counts_usage
),
requesting AS (
    SELECT DISTINCT tool_loops.subject, model_calls.span_id, model_calls.input_tokens,
           model_calls.output_tokens, model_calls.cost_usd, model_calls.duration_ms
    FROM tool_loops
    ASOF JOIN model_calls
           ON model_calls.trace_id = tool_loops.trace_id AND tool_loops.start_ns >= model_calls.start_ns
    WHERE tool_loops.occurrence > 1
),
requesting_totals AS (
    SELECT
        subject,
        sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0)) AS tokens,
        sum(cost_usd)                                              AS usd,
        sum(coalesce(duration_ms, 0)) / 1000.0                     AS seconds
    FROM requesting
    GROUP BY subject
),
tool_groups AS (
    SELECT
        subject,
        unnest(halo_h_spread(trace_id, traces.failed, start_time, end_time)),
        max(repeats)                                               AS max_repeats,
        count(*) FILTER (WHERE occurrence > 1)                     AS wasted_calls,
        sum(coalesce(duration_ms, 0)) FILTER (WHERE occurrence > 1) / 1000.0 AS wasted_seconds,
        list(span_id ORDER BY repeats DESC, trace_id, arguments_hash, start_ns, span_id)[1:5] AS example_span_ids,
        (list(trace_id ORDER BY repeats DESC, trace_id) FILTER (WHERE occurrence = 1)) AS example_trace_ids,
        arg_max(arguments_head, (repeats, trace_id))               AS sample_arguments
    FROM tool_loops
    JOIN (SELECT trace_id, failed, cost_usd AS trace_cost_usd FROM halo_h_traces) AS traces USING (trace_id)
    GROUP BY subject
),
repeating_outputs AS MATERIALIZED (
    -- The first step for model outputs (counting only outputs of at least the minimum length), by
    -- the hash and the output: a (trace, subject, output) counts into exactly one such pair.
    SELECT hash(trace_id, subject, output_hash) AS output_key, output_hash
    FROM halo_h_spans
    WHERE span_type = 'llm' AND output_hash IS NOT NULL AND output_chars >= $loop_output_min_chars
    GROUP BY ALL
    HAVING count(*) >= $loop_min_repeats
),
boilerplate AS (
    -- Outputs that most traces of the agent produce: what it always says, not what it got stuck on.
    -- (Asked only of outputs that repeat somewhere: the others are no loop anyway.)
    SELECT output_hash
    FROM halo_h_spans
    CROSS JOIN halo_h_totals AS totals
    WHERE span_type = 'llm' AND output_hash IS NOT NULL AND output_chars >= $loop_output_min_chars
      AND totals.traces >= $loop_boilerplate_min_traces
      AND output_hash IN (SELECT output_hash FROM repeating_outputs)
    GROUP BY output_hash, totals.traces
    HAVING count(DISTINCT trace_id) >= $loop_boilerplate_trace_share * totals.traces
),
outputs AS (
    -- The second step for model outputs.
    SELECT *
    FROM (
        SELECT
            spans.*,
            count(*) FILTER (WHERE spans.output_chars >= $loop_output_min_chars) OVER same_output AS repeats,
            -- every output alike, short ones too: a call whose output occurs once names no agent
            count(*) OVER same_output                                                          AS outputs_alike,
            row_number() OVER (same_output ORDER BY spans.start_ns, spans.span_id)            AS occurrence
        FROM halo_h_spans AS spans
        WHERE spans.span_type = 'llm' AND spans.output_hash IS NOT NULL
          AND hash(spans.trace_id, spans.subject, spans.output_hash) IN (SELECT output_key FROM repeating_outputs)
          AND spans.output_hash NOT IN (SELECT output_hash FROM boilerplate)
        WINDOW same_output AS (PARTITION BY spans.trace_id, spans.subject, spans.output_hash)
    )
    WHERE repeats >= $loop_min_repeats
),
output_groups AS (
    SELECT
        subject,
        unnest(halo_h_spread(trace_id, traces.failed, start_time, end_time)),
        max(repeats)                                               AS max_repeats,
        count(*) FILTER (WHERE occurrence > 1)                     AS wasted_calls,
        sum(coalesce(duration_ms, 0)) FILTER (WHERE occurrence > 1) / 1000.0 AS wasted_seconds,
        sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0)) FILTER (WHERE occurrence > 1 AND counts_usage) AS wasted_tokens,
        sum(cost_usd) FILTER (WHERE occurrence > 1 AND counts_usage) AS wasted_usd,
        list(span_id ORDER BY repeats DESC, trace_id, output_hash, start_ns, span_id)[1:5] AS example_span_ids,
        (list(trace_id ORDER BY repeats DESC, trace_id) FILTER (WHERE occurrence = 1)) AS example_trace_ids,
        arg_max(output_head, (repeats, trace_id))                  AS sample_output,
        halo_h_most_common(list(CASE WHEN outputs_alike > 1 THEN declared_agent END
                                ORDER BY repeats DESC, trace_id, start_ns, span_id)) AS agent
    FROM outputs
    JOIN (SELECT trace_id, failed, cost_usd AS trace_cost_usd FROM halo_h_traces) AS traces USING (trace_id)
    GROUP BY subject
)
SELECT
    'loop'                                                         AS category,
    CASE WHEN tool_groups.max_repeats >= $loop_high_repeats THEN 'high' ELSE 'medium' END AS severity,
    printf('Tool %s called with the same arguments up to %d times in one trace (%d trace%s, %d wasted calls)',
           tool_groups.subject, tool_groups.max_repeats, tool_groups.traces,
           CASE WHEN tool_groups.traces = 1 THEN '' ELSE 's' END, tool_groups.wasted_calls) AS title,
    tool_groups.subject                                            AS subject,
    'repeated_tool_calls'                                          AS metric,
    tool_groups.max_repeats                                        AS value,
    NULL::DOUBLE                                                   AS baseline,
    tool_groups.traces                                             AS affected_traces,
    tool_groups.spans                                              AS affected_spans,
    tool_groups.traces / totals.traces                             AS trace_share,
    tool_groups.spans / totals.tool_calls                          AS span_share,
    tool_groups.wasted_seconds + coalesce(requesting_totals.seconds, 0) AS impact_seconds,
    requesting_totals.usd                                          AS impact_usd,
    tool_groups.failed_traces                                      AS failed_traces,
    tool_groups.first_seen                                         AS first_seen,
    tool_groups.last_seen                                          AS last_seen,
    tool_groups.example_trace_ids                                  AS example_trace_ids,
    tool_groups.example_span_ids                                   AS example_span_ids,
    json_object(
        'spanType', 'tool',
        'wastedCalls', tool_groups.wasted_calls,
        'wastedTokens', coalesce(requesting_totals.tokens, 0),
        'sampleArguments', tool_groups.sample_arguments
    )                                                              AS detail
FROM tool_groups
LEFT JOIN requesting_totals USING (subject)
CROSS JOIN halo_h_totals AS totals

UNION ALL

SELECT
    'loop',
    CASE WHEN output_groups.max_repeats >= $loop_high_repeats THEN 'high' ELSE 'medium' END,
    printf('%s returned the same output up to %d times in one trace (%d trace%s, %d wasted calls)',
           output_groups.subject, output_groups.max_repeats, output_groups.traces,
           CASE WHEN output_groups.traces = 1 THEN '' ELSE 's' END, output_groups.wasted_calls),
    output_groups.subject,
    'repeated_outputs',
    output_groups.max_repeats,
    NULL::DOUBLE,
    output_groups.traces,
    output_groups.spans,
    output_groups.traces / totals.traces,
    output_groups.spans / totals.llm_calls,
    output_groups.wasted_seconds,
    output_groups.wasted_usd,
    output_groups.failed_traces,
    output_groups.first_seen,
    output_groups.last_seen,
    output_groups.example_trace_ids,
    output_groups.example_span_ids,
    json_object(
        'spanType', 'llm',
        'fixTarget', CASE WHEN output_groups.agent IS NOT NULL
                          THEN json_object('kind', 'agent', 'name', output_groups.agent) END,
        'wastedCalls', output_groups.wasted_calls,
        'wastedTokens', coalesce(output_groups.wasted_tokens, 0),
        'sampleOutput', output_groups.sample_output
    )
FROM output_groups
CROSS JOIN halo_h_totals AS totals
