-- genai-prices rules and rates registered by halo_local.pricing (Arrow) → TEMP tables for price.sql.
CREATE OR REPLACE TEMP TABLE price_rules AS SELECT * FROM price_rules_arrow;
CREATE OR REPLACE TEMP TABLE price_rates AS
SELECT * REPLACE (CAST(rate AS DECIMAL(38, 24)) AS rate) FROM price_rates_arrow;
