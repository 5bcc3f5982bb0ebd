-- Cost of each price_candidates span from genai-prices' rates (price_rules / price_rates, loaded by
-- halo_local.pricing), computed exactly as genai-prices' calc_price does:
--   * the price rule is the last one whose constraint holds at the span's start (UTC date on or after
--     start_date; time of day within [time_start, time_end), wrapping midnight), else the first;
--   * tiered rates are "cliff" tiers chosen by the total input tokens: the tier with the highest start
--     below input_tokens applies to all tokens of that unit (tier_start -1 is the base rate);
--   * cache reads and writes are priced at their own rates and taken out of the input tokens, when the
--     model prices them (otherwise they stay in the input tokens at the input rate);
--   * a per-request price counts once;
--   * usage genai-prices rejects (negative counts, cache tokens beyond the input tokens, cache tokens
--     without input tokens) and models it cannot price give NULL with cost_source 'unpriced', never 0.
-- Rates are exact decimals per unit; the sum is rounded half away from zero to the column's 10 places.
CREATE OR REPLACE TEMP TABLE derived_cost AS
WITH chosen_rules AS (
    SELECT
        candidate.span_key,
        coalesce(max(rule.rule_index) FILTER (WHERE
            (rule.start_date IS NULL OR CAST(candidate.start_time AS DATE) >= rule.start_date)
            AND (rule.time_start IS NULL OR CASE
                WHEN rule.time_end < rule.time_start
                    THEN CAST(candidate.start_time AS TIME) >= rule.time_start
                      OR CAST(candidate.start_time AS TIME) < rule.time_end
                ELSE CAST(candidate.start_time AS TIME) >= rule.time_start
                 AND CAST(candidate.start_time AS TIME) < rule.time_end
            END)
        ), 0) AS rule_index
    FROM price_candidates AS candidate
    JOIN price_rules AS rule
      ON rule.provider IS NOT DISTINCT FROM candidate.provider AND rule.model = candidate.model
    GROUP BY candidate.span_key
),
rated AS (
    SELECT
        candidate.span_key,
        arg_max(rate.rate, rate.tier_start) FILTER (WHERE rate.unit = 'input'
            AND coalesce(candidate.input_tokens, 0) > rate.tier_start)       AS input_rate,
        arg_max(rate.rate, rate.tier_start) FILTER (WHERE rate.unit = 'output'
            AND coalesce(candidate.input_tokens, 0) > rate.tier_start)       AS output_rate,
        arg_max(rate.rate, rate.tier_start) FILTER (WHERE rate.unit = 'cache_read'
            AND coalesce(candidate.input_tokens, 0) > rate.tier_start)       AS cache_read_rate,
        arg_max(rate.rate, rate.tier_start) FILTER (WHERE rate.unit = 'cache_write'
            AND coalesce(candidate.input_tokens, 0) > rate.tier_start)       AS cache_write_rate,
        arg_max(rate.rate, rate.tier_start) FILTER (WHERE rate.unit = 'requests'
            AND coalesce(candidate.input_tokens, 0) > rate.tier_start)       AS request_rate
    FROM price_candidates AS candidate
    JOIN chosen_rules USING (span_key)
    JOIN price_rates AS rate
      ON rate.provider IS NOT DISTINCT FROM candidate.provider AND rate.model = candidate.model
     AND rate.rule_index = chosen_rules.rule_index
    GROUP BY candidate.span_key
),
leaves AS (
    SELECT
        candidate.*,
        chosen_rules.span_key IS NOT NULL AS has_rates,  -- genai-prices knows the model (free ones have no rates)
        rated.* EXCLUDE (span_key),
        coalesce(candidate.input_tokens, 0)
            - CASE WHEN rated.cache_read_rate IS NOT NULL THEN coalesce(candidate.cache_read_tokens, 0) ELSE 0 END
            - CASE WHEN rated.cache_write_rate IS NOT NULL THEN coalesce(candidate.cache_write_tokens, 0) ELSE 0 END
            AS input_leaf
    FROM price_candidates AS candidate
    LEFT JOIN chosen_rules USING (span_key)
    LEFT JOIN rated USING (span_key)
),
valid AS (
    SELECT
        *,
        has_rates
        AND coalesce(input_tokens, 0) >= 0 AND coalesce(output_tokens, 0) >= 0
        AND coalesce(cache_read_tokens, 0) >= 0 AND coalesce(cache_write_tokens, 0) >= 0
        AND (input_rate IS NULL OR input_leaf >= 0)
        AND NOT (input_tokens IS NULL AND input_rate IS NOT NULL
                 AND (coalesce(cache_read_tokens, 0) > 0 OR coalesce(cache_write_tokens, 0) > 0))
        AS priceable
    FROM leaves
)
SELECT
    span_key,
    CASE WHEN priceable THEN CAST(
        coalesce(input_rate * input_leaf, 0)
        + coalesce(output_rate * coalesce(output_tokens, 0), 0)
        + coalesce(cache_read_rate * coalesce(cache_read_tokens, 0), 0)
        + coalesce(cache_write_rate * coalesce(cache_write_tokens, 0), 0)
        + coalesce(request_rate, 0)
    AS DECIMAL(18, 10)) END AS cost_usd,
    CASE WHEN priceable THEN 'computed' ELSE 'unpriced' END AS cost_source
FROM valid;
