{#- Jinja macros that generate the ClickHouse form of the attribute mapping (normalize/mapping.sql):
    one `CAST(coalesce(candidates...) AS type) AS field` column per mapped field, over one row of the
    exporter's table. halo_local/sources/dialect.py passes the rules as data (fields, keys, transforms,
    arguments, the span_type_values of each key); every value from the mapping goes through the
    `clickhouse_string` filter. The conversions are the DuckDB normalizer's (normalize/macros.sql,
    extract_fields.sql); the exporter stores every attribute value as a string (arrays and objects as
    JSON text), which is what the DuckDB transforms read as text. -#}

{#- ClickHouse type of each cast name. -#}
{% set cast_types = {"text": "Nullable(String)", "int": "Nullable(Int64)", "decimal": "Nullable(Decimal(38, 10))"} %}

{#- norm_int: "190" and "190.0" (rounded as DuckDB casts a decimal). -#}
{% macro int_of(text) -%}
coalesce(toInt64OrNull({{ text }}), toInt64OrNull(toString(round(toDecimal128OrNull({{ text }}, 6)))))
{%- endmacro %}

{#- norm_decimal: "0.25" and "2.5e-05". -#}
{% macro decimal_of(text) -%}
coalesce(toDecimal128OrNull({{ text }}, 10), toDecimal128OrNull(toString(toFloat64OrNull({{ text }})), 10))
{%- endmacro %}

{#- The rule key's value as text on one row; NULL when absent or empty. -#}
{% macro source_text(rule) -%}
{%- if rule.key == "@name" -%}nullIf(SpanName, '')
{%- elif rule.key == "@status_message" -%}if(lower(StatusCode) IN ('error', 'status_code_error'), nullIf(StatusMessage, ''), NULL)
{%- else -%}nullIf(SpanAttributes[{{ rule.key | clickhouse_string }}], '')
{%- endif -%}
{%- endmacro %}

{#- span_type_values looked up for one key: the value's own row, else the key's '*' row. -#}
{% macro span_type_of(rule, found) -%}
{%- if rule.span_types -%}
{%- set lookup -%}
nullIf(transform({{ found }}, [{% for value, _ in rule.span_types %}{{ value | clickhouse_string }}{{ ", " if not loop.last }}{% endfor %}], [{% for _, span_type in rule.span_types %}{{ span_type | clickhouse_string }}{{ ", " if not loop.last }}{% endfor %}], ''), '')
{%- endset -%}
{%- else -%}{%- set lookup = "NULL" -%}
{%- endif -%}
if({{ found }} IS NULL, NULL, coalesce({{ lookup }}, {{ rule.any_span_type | clickhouse_string if rule.any_span_type is not none else "NULL" }}))
{%- endmacro %}

{#- norm_langfuse_total: usage_details[direction] plus its detail keys (and, for input, the cache keys). -#}
{% macro langfuse_total(text, direction) -%}
{%- set base = int_of("nullIf(JSON_VALUE(" ~ text ~ ", " ~ ("$." ~ direction) | clickhouse_string ~ "), '')") -%}
if(isValidJSON({{ text }}) AND JSONType({{ text }}) = 'Object' AND {{ base }} IS NOT NULL, {{ base }} + arraySum(arrayMap(pair -> ifNull({{ int_of("trim(BOTH '\"' FROM pair.2)") }}, 0), arrayFilter(pair -> startsWith(pair.1, {{ (direction ~ "_") | clickhouse_string }})
{%- if direction == "input" %} OR pair.1 IN ('cache_read_input_tokens', 'cache_creation_input_tokens'){% endif -%}
, JSONExtractKeysAndValuesRaw(ifNull({{ text }}, ''))))), NULL)
{%- endmacro %}

{#- One candidate of a field, as ingest/normalize.py's transforms are for DuckDB. -#}
{% macro candidate(rule) -%}
{%- set text = source_text(rule) -%}
{%- set argument = rule.argument | clickhouse_string if rule.argument is not none else "NULL" -%}
{%- if rule.transform == "text" -%}{{ text }}
{%- elif rule.transform == "int" -%}{{ int_of(text) }}
{%- elif rule.transform == "decimal" -%}{{ decimal_of(text) }}
{%- elif rule.transform == "regex" -%}nullIf(extract({{ text }}, {{ argument }}), '')
{%- elif rule.transform == "first" -%}if(isValidJSON({{ text }}) AND JSONType({{ text }}) = 'Array', nullIf(JSONExtractString({{ text }}, 1), ''), {{ text }})
{%- elif rule.transform == "json_text" -%}nullIf(JSON_VALUE({{ text }}, {{ argument }}), '')
{%- elif rule.transform == "json_int" -%}{{ int_of("nullIf(JSON_VALUE(" ~ text ~ ", " ~ argument ~ "), '')") }}
{%- elif rule.transform == "json_decimal" -%}{{ decimal_of("nullIf(JSON_VALUE(" ~ text ~ ", " ~ argument ~ "), '')") }}
{%- elif rule.transform == "langfuse_total" -%}{{ langfuse_total(text, rule.argument or "") }}
{%- elif rule.transform == "span_type" -%}
{%- set found = "lower(" ~ text ~ ")" if rule.argument is none else "lower(nullIf(extract(" ~ text ~ ", " ~ argument ~ "), ''))" -%}
{{ span_type_of(rule, found) }}
{%- endif -%}
{%- endmacro %}

{#- The SELECT columns of `fields` (dialect.MappedField), comma-separated. -#}
{% macro mapped_columns(fields) -%}
{%- for field in fields -%}
CAST({% if field.candidates %}coalesce({% for rule in field.candidates %}{{ candidate(rule) }}{{ ", " if not loop.last }}{% endfor %}){% else %}NULL{% endif %} AS {{ cast_types[field.cast] }}) AS {{ field.name }}{{ ",\n        " if not loop.last }}
{%- endfor -%}
{%- endmacro %}
