-- data_quality: problems in the traces themselves that make other numbers less trustworthy.
--   orphan spans:      spans whose parent is not stored, in traces where the agent's spans do not
--                      form one tree (a single top span with an absent parent is a sub-agent
--                      called from another agent, and is fine).
--   unfinished spans:  spans that never ended (no end time): crashed or still running at export.
--   unpriced usage:    model calls with token usage whose model cannot be priced, one finding per
--                      model; their cost is unknown and left out of every sum (never counted as $0).
--   clock skew:        a child starting before its parent or ending after it by more than
--                      $clock_skew_tolerance_ms.
--   negative duration: spans ending before they start.
-- Why it matters: orphans and skew break the trees root causes are traced through; unfinished and
-- negative spans distort latency; unpriced usage makes cost totals lower bounds.
-- Severity: medium for negative durations; medium when >= $data_quality_medium_share of spans are
-- orphaned or unfinished, or >= $unpriced_medium_share of calls with usage are unpriced; else low.
WITH broken_traces AS (
    SELECT trace_id
    FROM halo_h_spans
    WHERE is_top
    GROUP BY trace_id
    HAVING count(*) >= 2 AND bool_or(parent_missing)
),
issues AS (
    SELECT 'orphan_spans' AS metric, NULL::VARCHAR AS subject, spans.* EXCLUDE (subject)
    FROM halo_h_spans AS spans
    SEMI JOIN broken_traces USING (trace_id)
    WHERE spans.parent_missing
    UNION ALL
    SELECT 'unfinished_spans', NULL, spans.* EXCLUDE (subject)
    FROM halo_h_spans AS spans
    WHERE spans.end_ns IS NULL
    UNION ALL
    SELECT 'unpriced_usage', coalesce(spans.model, '(unknown model)'), spans.* EXCLUDE (subject)
    FROM halo_h_spans AS spans
    WHERE spans.counts_usage AND spans.cost_source = 'unpriced'
    UNION ALL
    SELECT 'clock_skew_spans', NULL, spans.* EXCLUDE (subject)
    FROM halo_h_spans AS spans
    WHERE spans.parent_start_ns IS NOT NULL
      AND (spans.start_ns < spans.parent_start_ns - $clock_skew_tolerance_ms * 1e6
           OR (spans.end_ns IS NOT NULL AND spans.parent_end_ns IS NOT NULL
               AND spans.end_ns > spans.parent_end_ns + $clock_skew_tolerance_ms * 1e6))
    UNION ALL
    SELECT 'negative_duration_spans', NULL, spans.* EXCLUDE (subject)
    FROM halo_h_spans AS spans
    WHERE spans.end_ns < spans.start_ns
),
ranked AS (
    SELECT issues.*,
           row_number() OVER (PARTITION BY metric, subject, trace_id ORDER BY start_ns, span_id) AS rank_in_trace
    FROM issues
),
grouped AS (
    SELECT
        metric,
        subject,
        count(*)                                                           AS spans,
        count(DISTINCT trace_id)                                           AS traces,
        sum(coalesce(input_tokens, 0))                                     AS input_tokens,
        sum(coalesce(output_tokens, 0))                                    AS output_tokens,
        min(start_time)                                                    AS first_seen,
        max(coalesce(end_time, start_time))                                AS last_seen,
        list(span_id ORDER BY start_ns, span_id)[1:5]                      AS example_span_ids,
        (list(trace_id ORDER BY start_ns, span_id) FILTER (WHERE rank_in_trace = 1))[1:5] AS example_trace_ids,
        list(DISTINCT name ORDER BY name)[1:5]                             AS span_names
    FROM ranked
    GROUP BY metric, subject
),
usage_calls AS (
    SELECT count(*) AS calls
    FROM halo_h_spans
    WHERE counts_usage AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL OR cost_source IS NOT NULL)
)
SELECT
    'data_quality'                                                         AS category,
    CASE
        WHEN grouped.metric = 'negative_duration_spans' THEN 'medium'
        WHEN grouped.metric IN ('orphan_spans', 'unfinished_spans')
             AND grouped.spans >= $data_quality_medium_share * totals.spans THEN 'medium'
        WHEN grouped.metric = 'unpriced_usage'
             AND grouped.spans >= $unpriced_medium_share * usage_calls.calls THEN 'medium'
        ELSE 'low'
    END                                                                    AS severity,
    CASE grouped.metric
        WHEN 'orphan_spans' THEN printf('%d span%s point to a parent that is not stored', grouped.spans,
                                        CASE WHEN grouped.spans = 1 THEN '' ELSE 's' END)
        WHEN 'unfinished_spans' THEN printf('%d span%s never ended', grouped.spans,
                                            CASE WHEN grouped.spans = 1 THEN '' ELSE 's' END)
        WHEN 'unpriced_usage' THEN printf('Usage of %s cannot be priced (%d call%s, %d input and %d output tokens left out of costs)',
                                          grouped.subject, grouped.spans, CASE WHEN grouped.spans = 1 THEN '' ELSE 's' END,
                                          grouped.input_tokens, grouped.output_tokens)
        WHEN 'clock_skew_spans' THEN printf('%d span%s start before or end after their parent (clock skew)', grouped.spans,
                                            CASE WHEN grouped.spans = 1 THEN '' ELSE 's' END)
        ELSE printf('%d span%s end before they start', grouped.spans, CASE WHEN grouped.spans = 1 THEN '' ELSE 's' END)
    END                                                                    AS title,
    grouped.subject                                                        AS subject,
    grouped.metric                                                         AS metric,
    CASE WHEN grouped.metric = 'unpriced_usage' THEN grouped.spans / greatest(usage_calls.calls, 1)
         ELSE grouped.spans / totals.spans END                             AS value,
    NULL::DOUBLE                                                           AS baseline,
    grouped.traces                                                         AS affected_traces,
    grouped.spans                                                          AS affected_spans,
    grouped.traces / totals.traces                                         AS trace_share,
    CASE WHEN grouped.metric = 'unpriced_usage' THEN grouped.spans / greatest(usage_calls.calls, 1)
         ELSE grouped.spans / totals.spans END                             AS span_share,
    0.0                                                                    AS impact_seconds,
    NULL::DOUBLE                                                           AS impact_usd,
    0                                                                      AS failed_traces,
    grouped.first_seen                                                     AS first_seen,
    grouped.last_seen                                                      AS last_seen,
    grouped.example_trace_ids                                              AS example_trace_ids,
    grouped.example_span_ids                                               AS example_span_ids,
    json_object(
        'spanNames', grouped.span_names,
        'inputTokens', grouped.input_tokens,
        'outputTokens', grouped.output_tokens
    )                                                                      AS detail
FROM grouped
CROSS JOIN halo_h_totals AS totals
CROSS JOIN usage_calls
