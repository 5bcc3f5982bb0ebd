-- Applies attribute_map (mapping.sql) to the spans of TEMP VIEW normalize_generic_input
-- (span_key, name, status_code, status_message, attributes, events): one row per span_key with
-- each field's winning candidate. $fields limits the work to some fields (NULL = all of them).
-- The general path, for spans with indexed keys or events (several candidates per field and
-- priority); every other span takes the generated single-pass SELECT of extract_plain.sql.
CREATE OR REPLACE TEMP TABLE normalize_fields_generic AS
WITH active_map AS (
    SELECT field, priority, attribute_key, transform, argument
    FROM attribute_map
    WHERE CAST($fields AS VARCHAR[]) IS NULL OR list_contains(CAST($fields AS VARCHAR[]), field)
),
attribute_rows AS (
    SELECT input.span_key, attribute.key AS actual_key, attribute.value, []::INTEGER[] AS position
    FROM normalize_generic_input AS input, json_each(input.attributes) AS attribute
    WHERE json_type(input.attributes) = 'OBJECT' AND attribute.type <> 'NULL'
    UNION ALL
    SELECT span_key, '@name', to_json(name), []::INTEGER[] FROM normalize_generic_input
    UNION ALL
    SELECT span_key, '@status_message', to_json(status_message), []::INTEGER[]
    FROM normalize_generic_input WHERE status_code = 'error'
    UNION ALL
    SELECT input.span_key, 'event:' || coalesce(event.value ->> '$.name', '') || ':' || attribute.key,
           attribute.value, [CAST(event.key AS INTEGER)]
    FROM normalize_generic_input AS input, json_each(input.events) AS event, json_each(event.value -> '$.attributes') AS attribute
    WHERE json_type(input.events) = 'ARRAY' AND json_type(event.value -> '$.attributes') = 'OBJECT'
),
-- Indexed keys (a numeric segment) match the map through `*`; their indexes order combined values.
keyed AS (
    SELECT
        span_key,
        actual_key,
        value,
        CASE WHEN regexp_matches(actual_key, '\.[0-9]+(\.|$)')
            THEN regexp_replace(regexp_replace(actual_key, '\.[0-9]+(\.|$)', '.*\1', 'g'), '\.[0-9]+(\.|$)', '.*\1', 'g')
            ELSE actual_key
        END AS map_key,
        CASE WHEN regexp_matches(actual_key, '\.[0-9]+(\.|$)')
            THEN list_concat(position, list_transform(regexp_extract_all(actual_key, '\.([0-9]+)(?:\.|$)', 1),
                                                      lambda index: CAST(index AS INTEGER)))
            ELSE position
        END AS position
    FROM attribute_rows
),
matched AS (
    SELECT
        keyed.span_key,
        keyed.actual_key,
        keyed.position,
        keyed.value,
        rule.attribute_key,
        rule.field,
        rule.priority,
        rule.transform,
        rule.argument,
        CASE WHEN rule.transform IN ('regex', 'span_type') AND rule.argument IS NOT NULL
            THEN norm_text(keyed.value) END AS pattern_input
    FROM keyed
    JOIN active_map AS rule ON rule.attribute_key = keyed.map_key
),
-- Regular expressions run once per distinct (text, pattern): span names repeat, spans do not.
pattern_results AS (
    SELECT pattern_input, argument, nullif(regexp_extract(pattern_input, argument, 1), '') AS extracted
    FROM (SELECT DISTINCT pattern_input, argument FROM matched WHERE pattern_input IS NOT NULL)
),
converted AS (
    SELECT
        matched.* EXCLUDE (value, pattern_input),
        CASE matched.transform
            WHEN 'text' THEN norm_text(matched.value)
            WHEN 'int' THEN CAST(norm_int(norm_text(matched.value)) AS VARCHAR)
            WHEN 'decimal' THEN CAST(norm_decimal(norm_text(matched.value)) AS VARCHAR)
            WHEN 'first' THEN norm_first(matched.value)
            WHEN 'json_text' THEN nullif(json_extract_string(norm_document(matched.value), matched.argument), '')
            WHEN 'json_int' THEN CAST(norm_int(json_extract_string(norm_document(matched.value), matched.argument)) AS VARCHAR)
            WHEN 'json_decimal' THEN CAST(norm_decimal(json_extract_string(norm_document(matched.value), matched.argument)) AS VARCHAR)
            WHEN 'regex' THEN pattern.extracted
            WHEN 'span_type' THEN lower(CASE WHEN matched.argument IS NULL THEN norm_text(matched.value)
                                             ELSE pattern.extracted END)
            WHEN 'langfuse_total' THEN CAST(norm_langfuse_total(matched.value, matched.argument) AS VARCHAR)
        END AS value,
        CASE WHEN matched.transform = 'tool_names' THEN norm_tool_names(matched.value, matched.argument) END AS names
    FROM matched
    LEFT JOIN pattern_results AS pattern
      ON pattern.pattern_input = matched.pattern_input AND pattern.argument = matched.argument
),
-- span_type candidates are looked up in span_type_values (exact value first, then '*').
candidates AS (
    SELECT
        converted.* REPLACE (
            CASE WHEN converted.transform = 'span_type'
                THEN coalesce(exact.span_type, any_value.span_type)
                ELSE converted.value
            END AS value
        )
    FROM converted
    LEFT JOIN span_type_values AS exact
        ON converted.transform = 'span_type'
       AND exact.attribute_key = converted.attribute_key
       AND exact.value = converted.value
    LEFT JOIN span_type_values AS any_value
        ON converted.transform = 'span_type'
       AND any_value.attribute_key = converted.attribute_key
       AND any_value.value = '*'
       AND converted.value IS NOT NULL
),
present AS (
    SELECT * FROM candidates WHERE value IS NOT NULL OR len(names) > 0
),
-- Only indexed keys and event attributes can give several candidates per (span, field, priority);
-- they are combined in index order. Plain keys pass through without the (costly) ordered aggregation.
combined AS (
    SELECT span_key, field, priority, value, names
    FROM present
    WHERE len(position) = 0
    UNION ALL
    SELECT
        span_key,
        field,
        priority,
        CASE
            WHEN field IN ('input_text', 'output_text') AND any_value(argument) = ''
                THEN array_to_string(list(value ORDER BY position, actual_key), '')
            WHEN field IN ('input_text', 'output_text')
                THEN array_to_string(list(value ORDER BY position, actual_key), chr(10) || chr(10))
            ELSE first(value ORDER BY position, actual_key)
        END AS value,
        flatten(list(names ORDER BY position, actual_key)) AS names
    FROM present
    WHERE len(position) > 0
    GROUP BY span_key, field, priority
)
SELECT
    input.span_key,
    arg_min(value, priority) FILTER (WHERE field = 'span_type')                        AS span_type,
    arg_min(value, priority) FILTER (WHERE field = 'session_id')                       AS session_id,
    arg_min(value, priority) FILTER (WHERE field = 'provider_raw')                     AS provider_raw,
    arg_min(value, priority) FILTER (WHERE field = 'model')                            AS model,
    CAST(arg_min(value, priority) FILTER (WHERE field = 'input_tokens') AS BIGINT)       AS input_tokens,
    CAST(arg_min(value, priority) FILTER (WHERE field = 'output_tokens') AS BIGINT)      AS output_tokens,
    CAST(arg_min(value, priority) FILTER (WHERE field = 'cache_read_tokens') AS BIGINT)  AS cache_read_tokens,
    CAST(arg_min(value, priority) FILTER (WHERE field = 'cache_write_tokens') AS BIGINT) AS cache_write_tokens,
    CAST(arg_min(value, priority) FILTER (WHERE field = 'cost_usd') AS DECIMAL(18, 10))  AS cost_usd,
    arg_min(value, priority) FILTER (WHERE field = 'tool_name')                        AS tool_name,
    arg_min(value, priority) FILTER (WHERE field = 'tool_arguments')                   AS tool_arguments,
    arg_min(value, priority) FILTER (WHERE field = 'tool_result')                      AS tool_result,
    arg_min(names, priority) FILTER (WHERE field = 'declared_tools')                   AS declared_tools,
    arg_min(value, priority) FILTER (WHERE field = 'finish_reason')                    AS finish_reason,
    arg_min(value, priority) FILTER (WHERE field = 'error_type')                       AS error_type,
    arg_min(value, priority) FILTER (WHERE field = 'error_message')                    AS error_message,
    arg_min(value, priority) FILTER (WHERE field = 'input_text')                       AS input_text,
    arg_min(value, priority) FILTER (WHERE field = 'output_text')                      AS output_text,
    arg_min(value, priority) FILTER (WHERE field = 'declared_agent')                   AS declared_agent,
    arg_min(value, priority) FILTER (WHERE field = 'agent_span_label')                 AS agent_span_label,
    arg_min(value, priority) FILTER (WHERE field = 'langfuse_level')                   AS langfuse_level
FROM normalize_generic_input AS input
LEFT JOIN combined USING (span_key)
GROUP BY input.span_key;
