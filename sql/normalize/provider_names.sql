-- Raw provider names of the new spans that provider_aliases does not settle; Python asks genai-prices.
SELECT DISTINCT lower(fields.provider_raw) AS raw_name
FROM normalize_fields AS fields
WHERE fields.provider_raw IS NOT NULL
  AND lower(fields.provider_raw) NOT IN (SELECT raw_name FROM provider_aliases)
ORDER BY raw_name;
