-- report.html's cost per trace: the costliest traces (by tokens where nothing is priced), counting
-- each model call once (counts_usage); unpriced calls are counted apart, never priced at 0.
SELECT
    trace_id,
    sum(cost_usd) FILTER (WHERE counts_usage)                                            AS cost_usd,
    coalesce(sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0)) FILTER (WHERE counts_usage), 0) AS tokens,
    count(*) FILTER (WHERE counts_usage AND cost_source = 'unpriced')                    AS unpriced_calls
FROM window_spans
GROUP BY trace_id
HAVING sum(cost_usd) FILTER (WHERE counts_usage) IS NOT NULL
    OR sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0)) FILTER (WHERE counts_usage) > 0
ORDER BY cost_usd DESC NULLS LAST, tokens DESC, trace_id
LIMIT $row_limit;
