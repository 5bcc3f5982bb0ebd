{#- Jinja macros that generate the shape of extract_plain.sql and extract_generic_input.sql from
    attribute_map (normalize.py passes the rules; every constant is a $param named in them). -#}

{#- Whether a span needs extract_fields.sql: it has events (when a rule reads them), or its attributes'
    JSON text names an indexed key's prefix ("prefix.N..."). -#}
{% macro needs_generic(events, prefix_parameters) -%}
{%- set tests = [] -%}
{%- if events %}{% set _ = tests.append("coalesce(CAST(events AS VARCHAR), '[]') <> '[]'") %}{% endif -%}
{%- for name in prefix_parameters %}{% set _ = tests.append("contains(CAST(attributes AS VARCHAR), $" ~ name ~ ")") %}{% endfor -%}
{{ tests | join(" OR ") if tests else "FALSE" }}
{%- endmacro %}

{#- One candidate of a column: its transform (as in extract_fields.sql) of the key's text (norm_text of
    its value) or JSON value; NULL when absent or not convertible. -#}
{% macro candidate(rule) -%}
{%- if rule.column -%}
{%- set text = "nullif(" ~ rule.column ~ "_text, '')" -%}{%- set value = rule.column ~ "_value" -%}
{%- else -%}
{%- set text = "nullif(attribute_texts[" ~ rule.text_index ~ "], '')" -%}
{%- set value = "attribute_values[" ~ rule.json_index ~ "]" if rule.json_index else "NULL" -%}
{%- endif -%}
{%- set argument = rule.argument -%}
{%- if rule.transform == "text" -%}{{ text }}
{%- elif rule.transform == "int" -%}CAST(norm_int({{ text }}) AS VARCHAR)
{%- elif rule.transform == "decimal" -%}CAST(norm_decimal({{ text }}) AS VARCHAR)
{%- elif rule.transform == "first" -%}norm_first({{ value }})
{%- elif rule.transform == "json_text" -%}nullif(json_extract_string(norm_document({{ value }}), {{ argument }}), '')
{%- elif rule.transform == "json_int" -%}CAST(norm_int(json_extract_string(norm_document({{ value }}), {{ argument }})) AS VARCHAR)
{%- elif rule.transform == "json_decimal" -%}CAST(norm_decimal(json_extract_string(norm_document({{ value }}), {{ argument }})) AS VARCHAR)
{%- elif rule.transform == "regex" -%}nullif(regexp_extract({{ text }}, {{ argument }}, 1), '')
{%- elif rule.transform == "langfuse_total" -%}CAST(norm_langfuse_total({{ value }}, {{ argument }}) AS VARCHAR)
{%- elif rule.transform == "tool_names" -%}CASE WHEN len(norm_tool_names({{ value }}, {{ argument }})) > 0 THEN norm_tool_names({{ value }}, {{ argument }}) END
{%- elif rule.transform == "span_type" -%}
{%- set found = "lower(" ~ text ~ ")" if rule.argument == "NULL" else "lower(nullif(regexp_extract(" ~ text ~ ", " ~ argument ~ ", 1), ''))" -%}
CASE WHEN {{ found }} IS NOT NULL THEN coalesce(span_types[{{ rule.key }} || chr(31) || {{ found }}], span_types[{{ rule.key }} || chr(31) || '*']) END
{%- endif -%}
{%- endmacro %}
