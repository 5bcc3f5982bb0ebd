-- unsupported_claim: model calls that state specific facts (figures, quoted names) that appear in
-- no input, tool result or earlier message of their trace (halo_h_claims, _claims.sql): the agent
-- asserted them on its own, and every later step that repeats or builds on them inherits them
-- unverified. One finding per agent (the agent name the model call states for itself, else the
-- stored one), its fixTarget; the example spans are the calls that stated facts first, earliest first.
-- Why it matters: in a run that ends with a wrong answer and no error, the decisive mistake is most
-- often a fact some agent asserted without fetching it (a price, a count, a name), which the others
-- then "verify" by arithmetic and accept. The fix is the agent's: fetch or cite, or say it cannot.
-- Value: the share of the agent's model calls with output text that state facts of their own.
-- Severity: always low: a model may compute or know a fact correctly, so this only points at where
-- to read first when the outcome was wrong (and ranks below every finding with measured harm).
WITH claimed AS (
    SELECT spans.*, coalesce(spans.declared_agent, spans.subject) AS agent, claims.facts, outcomes.ended_badly
    FROM halo_h_claims AS claims
    JOIN halo_h_spans AS spans USING (span_key)
    JOIN halo_h_outcomes AS outcomes ON outcomes.trace_id = spans.trace_id
),
-- a trace's first call of the agent: where the trace first appears in example_trace_ids (ended_badly
-- is the trace's), so example_trace_ids lists each trace once without a quadratic dedup of the list.
-- (Found by grouping: a row_number() window over as many partitions as traces took 0.45 s at 1M spans.)
firsts AS (
    SELECT agent, trace_id, min((start_ns, span_id)) AS first_call
    FROM claimed
    GROUP BY agent, trace_id
),
stated AS (
    SELECT claimed.*, (claimed.start_ns, claimed.span_id) = firsts.first_call AS first_in_trace
    FROM claimed
    JOIN firsts
      ON firsts.agent IS NOT DISTINCT FROM claimed.agent AND firsts.trace_id IS NOT DISTINCT FROM claimed.trace_id
),
grouped AS (
    SELECT
        agent                                                            AS subject,
        unnest(halo_h_spread(trace_id, ended_badly, start_time, end_time)),
        sum(len(facts))                                                  AS facts,
        list(span_id ORDER BY start_ns, span_id)[1:5]                    AS example_span_ids,
        (list(trace_id ORDER BY ended_badly DESC, start_ns, span_id) FILTER (WHERE first_in_trace))[1:5] AS example_trace_ids,
        arg_min(facts[1:5], (start_ns, span_id))                         AS sample_facts,
        arg_min(output_head, (start_ns, span_id))                        AS sample_output
    FROM stated
    GROUP BY agent
),
agent_calls AS (
    -- (the declared agent of calls that state facts of their own, else the subject)
    SELECT coalesce(CASE WHEN claims.span_key IS NOT NULL THEN spans.declared_agent END, spans.subject) AS agent,
           count(*) AS calls
    FROM halo_h_spans AS spans
    LEFT JOIN halo_h_claims AS claims USING (span_key)
    WHERE spans.span_type = 'llm' AND spans.output_chars > 0
    GROUP BY ALL
)
SELECT finding.*
FROM (
    SELECT halo_h_finding(
        'unsupported_claim',
        'low',
        printf('%s stated %d fact%s that no input, tool result or earlier message gave, in %d model call%s (%d trace%s): %s',
               grouped.subject, grouped.facts, CASE WHEN grouped.facts = 1 THEN '' ELSE 's' END,
               grouped.spans, CASE WHEN grouped.spans = 1 THEN '' ELSE 's' END,
               grouped.traces, CASE WHEN grouped.traces = 1 THEN '' ELSE 's' END,
               array_to_string(grouped.sample_facts, ', ')),
        'unsupported_claim_calls',
        grouped.spans / greatest(coalesce(agent_calls.calls, 0), grouped.spans),
        NULL::DOUBLE,
        grouped,
        greatest(totals.llm_calls, 1),
        totals.traces,
        0.0,
        NULL::DOUBLE,
        json_object(
            'spanType', 'llm',
            'fixTarget', json_object('kind', 'agent', 'name', grouped.subject),
            'facts', grouped.facts,
            'sampleFacts', grouped.sample_facts,
            'sampleOutput', left(grouped.sample_output, 300)
        )
    ) AS finding
    FROM grouped
    LEFT JOIN agent_calls ON agent_calls.agent = grouped.subject
    CROSS JOIN halo_h_totals AS totals
)
