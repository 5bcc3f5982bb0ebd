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
--   usage outside model calls: spans that carry a model and token usage of their own but are typed
--                      as something else (agent, tool, other): per-model checks (cost, truncation)
--                      do not see them, one finding per model.
--   (_prepare.sql flags clock skew and negative durations on each span, and orphans per trace.)
-- Why it matters: orphans and skew break the trees root causes are traced through; unfinished and
-- negative spans distort latency; unpriced usage makes cost totals lower bounds.
-- Severity: medium for negative durations; medium when >= $data_quality_medium_share of spans are
-- orphaned or unfinished, or >= $unpriced_medium_share of calls with usage are unpriced; else low.
WITH issues AS (
    -- Only the columns the findings show: the unpriced usage of a big window is many spans.
    SELECT 'orphan_spans' AS metric, NULL::VARCHAR AS subject,
           trace_id, span_id, name, start_ns, start_time, end_time, input_tokens, output_tokens
    FROM halo_h_spans
    WHERE is_top AND parent_key IS NOT NULL
      AND trace_id IN (SELECT trace_id FROM halo_h_traces WHERE top_spans >= 2 AND orphan_top)
    UNION ALL
    SELECT 'unfinished_spans', NULL,
           trace_id, span_id, name, start_ns, start_time, end_time, input_tokens, output_tokens
    FROM halo_h_spans
    WHERE end_ns IS NULL
    UNION ALL
    SELECT 'unpriced_usage', coalesce(model, '(unknown model)'),
           trace_id, span_id, name, start_ns, start_time, end_time, input_tokens, output_tokens
    FROM halo_h_spans
    WHERE counts_usage AND unpriced
    UNION ALL
    SELECT 'clock_skew_spans', NULL,
           trace_id, span_id, name, start_ns, start_time, end_time, input_tokens, output_tokens
    FROM halo_h_spans
    WHERE clock_skew
    UNION ALL
    SELECT 'negative_duration_spans', NULL,
           trace_id, span_id, name, start_ns, start_time, end_time, input_tokens, output_tokens
    FROM halo_h_spans
    WHERE negative_duration
    UNION ALL
    SELECT 'usage_outside_model_calls', model,
           trace_id, span_id, name, start_ns, start_time, end_time, input_tokens, output_tokens
    FROM halo_h_spans
    WHERE counts_usage AND model IS NOT NULL AND span_type NOT IN ('llm', 'embedding')
      AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL)
),
grouped AS (
    -- Examples are the first spans (by start); example traces those whose first span comes first.
    -- arg_min(x, key, 5) keeps the 5 rows of smallest key, in key order: a sort of the group
    -- would give the same list.
    SELECT
        metric,
        subject,
        count(*)                                                           AS spans,
        sum(coalesce(input_tokens, 0))                                     AS input_tokens,
        sum(coalesce(output_tokens, 0))                                    AS output_tokens,
        min(start_time)                                                    AS first_seen,
        max(coalesce(end_time, start_time))                                AS last_seen,
        arg_min(span_id, (start_ns, span_id), 5)                           AS example_span_ids,
        list(DISTINCT name ORDER BY name)[1:5]                             AS span_names
    FROM issues
    GROUP BY metric, subject
),
trace_examples AS (
    SELECT metric, subject, count(trace_id) AS traces, list(trace_id ORDER BY first_span) AS example_trace_ids
    FROM (
        SELECT metric, subject, trace_id, min((start_ns, span_id)) AS first_span
        FROM issues
        GROUP BY metric, subject, trace_id
    )
    GROUP BY metric, subject
),
usage_calls AS (
    SELECT calls_with_usage AS calls FROM halo_h_totals
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
        WHEN 'unpriced_usage' THEN printf('%s cannot be priced (%d call%s, %d input and %d output tokens left out of costs)',
                                          CASE WHEN grouped.subject = '(unknown model)'
                                               THEN 'Usage of LLM calls that record no model name'
                                               ELSE 'Usage of ' || grouped.subject END,
                                          grouped.spans, CASE WHEN grouped.spans = 1 THEN '' ELSE 's' END,
                                          grouped.input_tokens, grouped.output_tokens)
        WHEN 'usage_outside_model_calls' THEN printf('%d span%s carry usage of %s but %s not typed as model calls',
                                                     grouped.spans, CASE WHEN grouped.spans = 1 THEN '' ELSE 's' END,
                                                     grouped.subject, CASE WHEN grouped.spans = 1 THEN 'is' ELSE 'are' END)
        WHEN 'clock_skew_spans' THEN printf('%d span%s start before or end after their parent (clock skew)', grouped.spans,
                                            CASE WHEN grouped.spans = 1 THEN '' ELSE 's' END)
        ELSE printf('%d span%s end before they start', grouped.spans, CASE WHEN grouped.spans = 1 THEN '' ELSE 's' END)
    END                                                                    AS title,
    grouped.subject                                                        AS subject,
    grouped.metric                                                         AS metric,
    CASE WHEN grouped.metric = 'unpriced_usage' THEN grouped.spans / greatest(usage_calls.calls, 1)
         ELSE grouped.spans / totals.spans END                             AS value,
    NULL::DOUBLE                                                           AS baseline,
    examples.traces                                                        AS affected_traces,
    grouped.spans                                                          AS affected_spans,
    examples.traces / totals.traces                                        AS trace_share,
    CASE WHEN grouped.metric = 'unpriced_usage' THEN grouped.spans / greatest(usage_calls.calls, 1)
         ELSE grouped.spans / totals.spans END                             AS span_share,
    0.0                                                                    AS impact_seconds,
    NULL::DOUBLE                                                           AS impact_usd,
    0                                                                      AS failed_traces,
    grouped.first_seen                                                     AS first_seen,
    grouped.last_seen                                                      AS last_seen,
    examples.example_trace_ids                                             AS example_trace_ids,
    grouped.example_span_ids                                               AS example_span_ids,
    json_object(
        'spanNames', grouped.span_names,
        'inputTokens', grouped.input_tokens,
        'outputTokens', grouped.output_tokens
    )                                                                      AS detail
FROM grouped
JOIN trace_examples AS examples
  ON examples.metric = grouped.metric AND examples.subject IS NOT DISTINCT FROM grouped.subject
CROSS JOIN halo_h_totals AS totals
CROSS JOIN usage_calls
