-- Cost totals: per model (all of them, priced or not; unpriced usage is never counted as $0) and
-- the 10 costliest traces. Usage is counted only on spans with counts_usage.
(
    SELECT
        'model'                                                        AS scope,
        coalesce(model, '(unknown model)')                             AS name,
        count(*)                                                       AS calls,
        count(DISTINCT trace_id)                                       AS traces,
        sum(input_tokens)                                              AS input_tokens,
        sum(output_tokens)                                             AS output_tokens,
        sum(cost_usd)                                                  AS cost_usd,
        count(*) FILTER (WHERE cost_usd IS NOT NULL)                   AS priced_calls,
        count(*) FILTER (WHERE unpriced)                               AS unpriced_calls
    FROM halo_h_spans
    WHERE span_type IN ('llm', 'embedding') AND counts_usage
      AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL OR cost_usd IS NOT NULL)
    GROUP BY ALL
    ORDER BY cost_usd DESC NULLS LAST, calls DESC, name
)
UNION ALL
(
    SELECT
        'trace'                       AS scope,
        traces.trace_id               AS name,
        traces.llm_calls              AS calls,
        1                             AS traces,
        traces.input_tokens           AS input_tokens,
        traces.output_tokens          AS output_tokens,
        traces.cost_usd               AS cost_usd,
        traces.priced_spans           AS priced_calls,
        traces.unpriced_spans         AS unpriced_calls
    FROM halo_h_traces AS traces
    WHERE traces.cost_usd IS NOT NULL
    ORDER BY traces.cost_usd DESC, traces.trace_id
    LIMIT 10
)
