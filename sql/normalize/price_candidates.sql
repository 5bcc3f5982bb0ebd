-- Spans of derive_spans to price with genai-prices: usage, and no cost given on the span.
CREATE OR REPLACE TEMP TABLE price_candidates AS
SELECT
    span_key,
    provider,
    model,
    start_time,
    input_tokens,
    output_tokens,
    cache_read_tokens,
    cache_write_tokens
FROM derive_spans
WHERE cost_source IS DISTINCT FROM 'span'
  AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL
       OR cache_read_tokens IS NOT NULL OR cache_write_tokens IS NOT NULL);
