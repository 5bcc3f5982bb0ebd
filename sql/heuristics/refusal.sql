-- refusal: model calls that were refused or filtered: finish reason content_filter, refusal,
-- safety, blocklist, prohibited_content, spii, recitation or guardrail; or a short output that is
-- a refusal ("I'm sorry, but I can't help with that"). Grouped by model.
-- Why it matters: a refusal ends the step without a result; repeated refusals mean the prompt or
-- the inputs trip the provider's filters, or the model misreads the task as disallowed.
-- Value: share of the model's calls refused. Impact: the time and dollars of those calls.
-- Severity: by that share once >= $output_min_spans calls were refused: high at >= $output_high_share,
-- medium at >= $output_medium_share, else low.
WITH calls AS (
    SELECT
        spans.*,
        traces.failed AS trace_failed,
        regexp_matches(coalesce(spans.finish_reason, ''),
                       'content_filter|refusal|safety|blocklist|prohibited_content|spii|recitation|guardrail') AS filtered,
        row_number() OVER (PARTITION BY spans.subject, spans.trace_id ORDER BY spans.start_ns, spans.span_id) AS rank_in_trace
    FROM halo_h_spans AS spans
    JOIN (SELECT trace_id, failed, cost_usd AS trace_cost_usd FROM halo_h_traces) AS traces USING (trace_id)
    WHERE spans.span_type = 'llm' AND spans.counts_usage
      AND (spans.text_refusal
           OR spans.finish_reason IN (
               SELECT finish_reason
               FROM halo_h_finish_reasons
               WHERE regexp_matches(finish_reason,
                                    'content_filter|refusal|safety|blocklist|prohibited_content|spii|recitation|guardrail')))
),
grouped AS (
    SELECT
        subject,
        unnest(halo_h_spread(trace_id, trace_failed, start_time, end_time)),
        sum(coalesce(duration_ms, 0)) / 1000.0                         AS seconds,
        sum(cost_usd)                                                  AS usd,
        list(span_id ORDER BY trace_failed DESC, filtered DESC, start_ns, span_id)[1:5] AS example_span_ids,
        (list(trace_id ORDER BY trace_failed DESC, filtered DESC, start_ns, span_id)
            FILTER (WHERE rank_in_trace = 1))                     AS example_trace_ids,
        json_object(
            'filteredCalls', count(*) FILTER (WHERE filtered),
            'textRefusals', count(*) FILTER (WHERE NOT filtered),
            'finishReasons', coalesce(list(DISTINCT finish_reason ORDER BY finish_reason)
                                          FILTER (WHERE finish_reason IS NOT NULL), []),
            'sampleOutput', arg_min(output_head, (start_ns, span_id)) FILTER (WHERE text_refusal)
        )                                                              AS detail
    FROM calls
    GROUP BY subject
)
SELECT *
FROM halo_h_output_findings('grouped', 'refusal', 'refused or was filtered', 'refused_share',
                            $output_min_spans, $output_medium_share, $output_high_share)
