-- truncation: model calls that stopped because they hit the output limit (finish reason length,
-- max_tokens, max_output_tokens, model_length), grouped by model.
-- Why it matters: a cut-off answer or tool call is usually unusable: the agent retries, parses
-- garbage, or hands the user half a result. The fix is a higher max_tokens or a shorter task.
-- Value: share of the model's calls truncated. Impact: the time and dollars of those calls.
-- Severity: by that share once >= $output_min_spans calls were cut: high at >= $output_high_share,
-- medium at >= $output_medium_share, else low.
WITH calls AS (
    SELECT spans.*, traces.failed AS trace_failed,
           row_number() OVER (PARTITION BY spans.subject, spans.trace_id
                              ORDER BY coalesce(spans.output_tokens, 0) DESC, spans.start_ns, spans.span_id) AS rank_in_trace
    FROM halo_h_spans AS spans
    JOIN (SELECT trace_id, failed, cost_usd AS trace_cost_usd FROM halo_h_traces) AS traces USING (trace_id)
    WHERE spans.span_type = 'llm' AND spans.counts_usage
      AND spans.finish_reason IN (
          SELECT finish_reason
          FROM halo_h_finish_reasons
          WHERE regexp_matches(finish_reason,
                               '(^|[^a-z_])(length|max_tokens|max_output_tokens|model_length|max_tokens_reached)([^a-z_]|$)'))
),
grouped AS (
    SELECT
        subject,
        unnest(halo_h_spread(trace_id, trace_failed, start_time, end_time)),
        sum(coalesce(duration_ms, 0)) / 1000.0                         AS seconds,
        sum(cost_usd)                                                  AS usd,
        list(span_id ORDER BY trace_failed DESC, coalesce(output_tokens, 0) DESC, start_ns, span_id)[1:5] AS example_span_ids,
        (list(trace_id ORDER BY trace_failed DESC, coalesce(output_tokens, 0) DESC, start_ns, span_id)
            FILTER (WHERE rank_in_trace = 1))                     AS example_trace_ids,
        json_object(
            'finishReasons', list(DISTINCT finish_reason ORDER BY finish_reason),
            'maxOutputTokens', max(output_tokens)
        )                                                              AS detail
    FROM calls
    GROUP BY subject
)
SELECT *
FROM halo_h_output_findings('grouped', 'truncation', 'hit its output limit', 'truncated_share',
                            $output_min_spans, $output_medium_share, $output_high_share)
