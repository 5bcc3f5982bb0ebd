-- What the window holds for each check to examine: one row of counters (see CheckResult).
SELECT
    count(*)                                                                    AS spans,
    count(DISTINCT trace_id)                                                    AS traces,
    count(*) FILTER (WHERE duration_ms IS NOT NULL)                             AS finished_spans,
    count(*) FILTER (WHERE span_type = 'tool')                                  AS tool_calls,
    count(*) FILTER (WHERE span_type = 'tool' AND has_result)                  AS tool_results,
    count(*) FILTER (WHERE span_type = 'llm' AND counts_usage)                  AS llm_calls,
    count(*) FILTER (WHERE span_type = 'llm' AND counts_usage
                       AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL)) AS usage_spans,
    count(*) FILTER (WHERE span_type = 'llm' AND finish_reason IS NOT NULL)     AS llm_with_finish_reason,
    count(*) FILTER (WHERE span_type = 'llm' AND output_chars > 0)              AS llm_with_output,
    count(*) FILTER (WHERE span_type = 'llm'
                       AND (finish_reason IS NOT NULL OR output_chars > 0))      AS llm_with_finish_or_output,
    count(*) FILTER (WHERE arguments_hash IS NOT NULL OR output_hash IS NOT NULL) AS loop_candidates,
    count(*) FILTER (WHERE declared_count > 0)                                 AS declared_tool_spans
FROM halo_h_spans
