-- empty_output: model calls that completed without error yet produced nothing: zero output tokens,
-- or no usage and an output text recorded as empty; and no tool call either (no tool-call finish
-- reason or payload, and no tool span between the call and the next model call of its trace).
-- A missing output text proves nothing (many exporters do not record content) and is not counted.
-- Truncated and filtered calls belong to their own categories. Grouped by model.
-- Why it matters: an empty turn is paid for and moves nothing forward; it usually means a
-- malformed prompt, an exhausted context, or a stop sequence that fires immediately.
-- Value: share of the model's calls that were empty. Impact: the time and dollars of those calls.
-- Severity: by that share once >= $output_min_spans calls were empty: high at >= $output_high_share,
-- medium at >= $output_medium_share, else low.
WITH candidates AS (
    -- The cheap, selective conditions first: the pattern runs on calls without any output only.
    SELECT *
    FROM halo_h_spans
    WHERE span_type = 'llm' AND counts_usage
      AND coalesce(output_chars, 0) = 0
      AND (output_tokens = 0 OR (output_tokens IS NULL AND output_blank))
      AND NOT is_error
      AND end_ns IS NOT NULL
      AND NOT requested_tools
      AND NOT regexp_matches(coalesce(finish_reason, ''),
              'length|max_tokens|max_output_tokens|content_filter|refusal|safety|blocklist|prohibited_content|spii|recitation|guardrail')
),
next_model_call AS (
    SELECT trace_id, span_id,
           lead(start_ns) OVER (PARTITION BY trace_id ORDER BY start_ns, span_id) AS next_start_ns
    FROM halo_h_spans
    WHERE span_type = 'llm' AND counts_usage AND trace_id IN (SELECT trace_id FROM candidates)
),
followed_by_tool AS (
    SELECT DISTINCT candidates.trace_id, candidates.span_id
    FROM candidates
    JOIN next_model_call USING (trace_id, span_id)
    JOIN halo_h_spans AS tools
      ON tools.trace_id = candidates.trace_id AND tools.span_type = 'tool'
     AND tools.start_ns >= candidates.start_ns
     AND (next_model_call.next_start_ns IS NULL OR tools.start_ns < next_model_call.next_start_ns)
),
calls AS (
    SELECT
        candidates.*,
        traces.failed AS trace_failed,
        row_number() OVER (PARTITION BY candidates.subject, candidates.trace_id
                           ORDER BY candidates.start_ns, candidates.span_id) AS rank_in_trace
    FROM candidates
    JOIN (SELECT trace_id, failed FROM halo_h_traces) AS traces USING (trace_id)
    ANTI JOIN followed_by_tool
           ON followed_by_tool.trace_id = candidates.trace_id AND followed_by_tool.span_id = candidates.span_id
),
grouped AS (
    SELECT
        subject,
        unnest(halo_h_spread(trace_id, trace_failed, start_time, end_time)),
        sum(coalesce(duration_ms, 0)) / 1000.0                         AS seconds,
        sum(cost_usd)                                                  AS usd,
        list(span_id ORDER BY trace_failed DESC, coalesce(input_tokens, 0) DESC, start_ns, span_id)[1:5] AS example_span_ids,
        (list(trace_id ORDER BY trace_failed DESC, coalesce(input_tokens, 0) DESC, start_ns, span_id)
            FILTER (WHERE rank_in_trace = 1))                     AS example_trace_ids,
        json_object(
            'finishReasons', coalesce(list(DISTINCT finish_reason ORDER BY finish_reason)
                                          FILTER (WHERE finish_reason IS NOT NULL), [])
        )                                                              AS detail
    FROM calls
    GROUP BY subject
)
SELECT *
FROM halo_h_output_findings('grouped', 'empty_output', 'returned an empty output', 'empty_share',
                            $output_min_spans, $output_medium_share, $output_high_share)
