-- assumed_data: model calls whose output says the agent works from data it assumed or made up
-- instead of data it fetched or was given: hypothetical, simulated or placeholder values, sample or
-- synthetic datasets, "let's assume ...". One finding per agent (the agent name the model call
-- states for itself, else the stored one), its fixTarget.
-- Why it matters: an answer built on invented inputs looks finished and raises no error, so the
-- run "succeeds" with a wrong result; the defect is the agent's (its prompt, or a tool it lacks).
-- Value: the share of the agent's model calls with usage or output that say so.
-- Severity: medium when it happens in >= $assumed_data_medium_traces traces, else low.
WITH flagged AS (
    SELECT spans.*, coalesce(agents.agent, spans.subject) AS agent, traces.failed AS trace_failed,
           -- a trace's first call of the agent: where the trace first appears in example_trace_ids, so it lists
           -- each trace once without a quadratic dedup of the list (list_position per element)
           row_number() OVER (PARTITION BY coalesce(agents.agent, spans.subject), spans.trace_id
                              ORDER BY spans.start_ns, spans.span_id) = 1 AS first_in_trace
    FROM halo_h_spans AS spans
    LEFT JOIN halo_h_assumed_agents AS agents USING (span_key)
    JOIN (SELECT trace_id, failed FROM halo_h_traces) AS traces USING (trace_id)
    WHERE spans.assumes_data
),
grouped AS (
    SELECT
        agent                                                            AS subject,
        unnest(halo_h_spread(trace_id, trace_failed, start_time, end_time)),
        sum(coalesce(duration_ms, 0)) / 1000.0                           AS seconds,
        sum(cost_usd) FILTER (WHERE counts_usage)                        AS usd,
        list(span_id ORDER BY start_ns, span_id)[1:5]                    AS example_span_ids,
        (list(trace_id ORDER BY start_ns, span_id) FILTER (WHERE first_in_trace))[1:5] AS example_trace_ids,
        arg_min(output_head, (start_ns, span_id))                        AS sample_output
    FROM flagged
    GROUP BY agent
)
SELECT finding.*
FROM (
    SELECT halo_h_finding(
        'assumed_data',
        CASE WHEN grouped.traces >= $assumed_data_medium_traces THEN 'medium' ELSE 'low' END,
        printf('%s works from assumed or made-up data in %d model call%s (%d trace%s)',
               grouped.subject, grouped.spans, CASE WHEN grouped.spans = 1 THEN '' ELSE 's' END,
               grouped.traces, CASE WHEN grouped.traces = 1 THEN '' ELSE 's' END),
        'assumed_data_calls',
        grouped.spans / greatest(totals.llm_calls, 1),
        NULL::DOUBLE,
        grouped,
        greatest(totals.llm_calls, 1),
        totals.traces,
        grouped.seconds,
        grouped.usd,
        json_object(
            'spanType', 'llm',
            'fixTarget', json_object('kind', 'agent', 'name', grouped.subject),
            'sampleOutput', grouped.sample_output
        )
    ) AS finding
    FROM grouped
    CROSS JOIN halo_h_totals AS totals
)
