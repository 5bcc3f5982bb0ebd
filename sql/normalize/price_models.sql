-- Distinct (provider, model) pairs to look up in genai-prices.
SELECT DISTINCT provider, model FROM price_candidates WHERE model IS NOT NULL ORDER BY ALL;
