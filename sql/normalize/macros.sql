-- Value conversions used by extract_fields.sql (prefixed norm_ so they never clash with other macros).

-- An attribute value as text: strings unquoted, arrays/objects as JSON text; JSON null and '' → NULL.
CREATE OR REPLACE TEMP MACRO norm_text(value) AS
    nullif(CASE json_type(value)
        WHEN 'VARCHAR' THEN value ->> '$'
        WHEN 'NULL' THEN NULL
        ELSE CAST(value AS VARCHAR)
    END, '');

-- An attribute value as a JSON document: objects and arrays as they are, strings holding JSON parsed.
CREATE OR REPLACE TEMP MACRO norm_document(value) AS
    CASE
        WHEN json_type(value) IN ('OBJECT', 'ARRAY') THEN value
        WHEN json_type(value) = 'VARCHAR' AND json_valid(value ->> '$') THEN json(value ->> '$')
    END;

-- Integer token counts arrive as numbers or as strings ("190", "190.0").
CREATE OR REPLACE TEMP MACRO norm_int(text_value) AS
    coalesce(TRY_CAST(text_value AS BIGINT), TRY_CAST(TRY_CAST(text_value AS DECIMAL(38, 6)) AS BIGINT));

CREATE OR REPLACE TEMP MACRO norm_decimal(text_value) AS
    TRY_CAST(text_value AS DECIMAL(18, 10));

-- The first element of an array (finish_reasons), else the value itself.
CREATE OR REPLACE TEMP MACRO norm_first(value) AS
    CASE WHEN json_type(norm_document(value)) = 'ARRAY'
        THEN norm_text(json_extract(norm_document(value), '$[0]'))
        ELSE norm_text(value)
    END;

-- One tool name out of an object ({name}, {function: {name}}, {"tool.name"}) or a string (a name,
-- or JSON text of such an object).
CREATE OR REPLACE TEMP MACRO norm_tool_name_of_object(item) AS
    coalesce(item ->> '$.name', item ->> '$.function.name', item ->> '$."tool.name"');

CREATE OR REPLACE TEMP MACRO norm_tool_name(item) AS
    CASE json_type(item)
        WHEN 'OBJECT' THEN norm_tool_name_of_object(item)
        WHEN 'VARCHAR' THEN
            CASE WHEN json_valid(item ->> '$') AND json_type(json(item ->> '$')) = 'OBJECT'
                THEN norm_tool_name_of_object(json(item ->> '$'))
                ELSE nullif(item ->> '$', '')
            END
    END;

-- Tool names of a tool list (or of one tool definition), of a document already located.
CREATE OR REPLACE TEMP MACRO norm_tool_names_in(document) AS
    CASE json_type(document)
        WHEN 'ARRAY' THEN list_filter(
            list_transform(CAST(json_extract(document, '$[*]') AS JSON[]), lambda item: norm_tool_name(item)),
            lambda name: name IS NOT NULL)
        WHEN 'OBJECT' THEN list_filter([norm_tool_name(document)], lambda name: name IS NOT NULL)
    END;

-- Tool names of an attribute value, after an optional JSON path inside it.
CREATE OR REPLACE TEMP MACRO norm_tool_names(value, path) AS
    norm_tool_names_in(CASE WHEN path IS NULL THEN norm_document(value)
                            ELSE json_extract(norm_document(value), path) END);

-- Langfuse usage_details `direction` (input|output) with its detail keys added back, so that it
-- counts like OTel: input includes cache reads/writes (and audio), output includes reasoning.
CREATE OR REPLACE TEMP MACRO norm_langfuse_total_in(document, direction) AS
    CASE WHEN json_type(document) = 'OBJECT'
              AND norm_int(json_extract_string(document, '/' || direction)) IS NOT NULL
        THEN norm_int(json_extract_string(document, '/' || direction)) + coalesce(list_sum(list_transform(
            list_filter(json_keys(document), lambda detail:
                starts_with(detail, direction || '_')
                OR (direction = 'input' AND detail IN ('cache_read_input_tokens', 'cache_creation_input_tokens'))),
            lambda detail: coalesce(norm_int(json_extract_string(document, '/' || detail)), 0))), 0)
    END;

CREATE OR REPLACE TEMP MACRO norm_langfuse_total(value, direction) AS
    norm_langfuse_total_in(norm_document(value), direction);
-- A span carries usage: tokens, or a cost given on it.
CREATE OR REPLACE TEMP MACRO norm_has_usage(input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
                                            cost_source) AS
    input_tokens IS NOT NULL OR output_tokens IS NOT NULL OR cache_read_tokens IS NOT NULL
    OR cache_write_tokens IS NOT NULL OR cost_source IS NOT DISTINCT FROM 'span';
