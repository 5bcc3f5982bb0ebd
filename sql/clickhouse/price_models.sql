-- The (raw provider, model) pairs of the spans genai-prices may have to price in the window (usage and
-- no cost given on the span), over every agent and without the agent walk: halo-local looks their
-- rates up and ships them into the overview query (clickhouse/overview.sql), so the cluster prices
-- each call exactly as the local normalizer does (normalize/price.sql).
{% from "clickhouse/_mapping.sql" import mapped_columns %}
SELECT DISTINCT
    lower(provider_raw)                                                                          AS provider_name,
    replaceRegexpOne(model, '^projects/[^/]+/locations/[^/]+/publishers/[^/]+/models/', '')      AS model_name
FROM (
    SELECT
        {{ mapped_columns(fields) }}
    FROM {{ table }}
    WHERE ({window_start_us:Nullable(Int64)} IS NULL
           OR Timestamp >= fromUnixTimestamp64Micro(assumeNotNull({window_start_us:Nullable(Int64)}), 'UTC'))
      AND ({window_end_us:Nullable(Int64)} IS NULL
           OR Timestamp < fromUnixTimestamp64Micro(assumeNotNull({window_end_us:Nullable(Int64)}), 'UTC'))
)
WHERE model IS NOT NULL AND cost_usd IS NULL
  AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL OR cache_read_tokens IS NOT NULL
       OR cache_write_tokens IS NOT NULL)
ORDER BY provider_name, model_name
