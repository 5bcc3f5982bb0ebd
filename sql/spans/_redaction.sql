{#- The one list of span columns whose text is redacted, shared by a run's snapshot (runs/snapshot.sql)
    and the sandbox copy of the store (sandbox/redacted_spans.sql). Every text and JSON column goes
    through `redact_secrets` (halo_local/redact.py's sql_macro), so no query over the result
    (upper(), reverse(), ...) can reshape a secret past the redaction. Ids and numbers are copied as
    they are; a JSON value the redaction made invalid is kept as a JSON string.
    A span's texts are first checked together, joined by newlines, in one `may_hold_secret` call: nearly
    no span holds anything secret-shaped, and one call per span instead of one per column cost a
    third of the check (the per-call cost of RE2 on short names, kinds, models). Only a flagged span's
    texts are redacted, one by one, which yields exactly what redacting every column would.
    The same check runs once when a span is stored (`with_secret_verdict`, normalize/insert_spans.sql)
    over exactly these texts: a span stored clean under the current rules ($secret_rules, redact.py's
    rules_fingerprint) is not checked again, saving the check's ~3.5 CPU-s at 1M spans in every run. -#}
{% set text_columns = ["name", "kind", "status_message", "service_name", "agent_name", "session_id", "provider",
                       "model", "tool_name", "tool_arguments", "tool_result", "finish_reason", "error_type",
                       "error_message", "input_text", "output_text", "scope_name", "scope_version",
                       "source_file"] -%}
{% set json_columns = ["attributes", "resource_attributes", "events", "links"] -%}
{% macro secret_check() -%}
may_hold_secret(concat_ws(chr(10), {{ text_columns | join(", ") }},
                          array_to_string(declared_tools, chr(10)),
                          {% for column in json_columns %}{{ column }}::VARCHAR{{ ", " if not loop.last }}{% endfor %}))
{%- endmacro %}
{#- `source`'s rows with their stored verdict: their column `secret_rules` (the current rules' fingerprint)
    where none of the texts above may hold a secret, else NULL. `source` has the columns of `spans` as they
    are stored (JSON as its text), then `secret_rules`. -#}
{% macro with_secret_verdict(source) -%}
SELECT * EXCLUDE (secret_rules), CASE WHEN {{ secret_check() }} THEN NULL ELSE secret_rules END AS secret_free_under_rules
FROM {{ source }}
{%- endmacro %}
{#- `source`'s rows (the columns of `spans`) as a snapshot or the sandbox gets them, without the verdict. -#}
{% macro redacted_spans(source) -%}
{%- set texts = text_columns + json_columns -%}
SELECT * EXCLUDE (halo_flagged, halo_redacted, secret_free_under_rules) REPLACE (
{%- for column in text_columns %}
    CASE WHEN halo_flagged THEN halo_redacted[{{ loop.index }}] ELSE {{ column }} END AS {{ column }},
{%- endfor %}
{%- for column in json_columns %}
    CASE WHEN halo_flagged THEN coalesce(try_cast(halo_redacted[{{ text_columns | length + loop.index }}] AS JSON),
                                         to_json(halo_redacted[{{ text_columns | length + loop.index }}]))
         ELSE {{ column }} END AS {{ column }},
{%- endfor %}
    CASE WHEN halo_flagged AND declared_tools IS NOT NULL THEN halo_redacted[{{ texts | length + 1 }}:]
         ELSE declared_tools END AS declared_tools
)
FROM (
    SELECT
        *,
        -- Every text of a flagged span in one list, redacted by one lambda: the macro's regular
        -- expressions are compiled once per query instead of once per column (24 times), which cost
        -- about 0.5 CPU-s a snapshot however small. The declared tools follow the columns in it.
        CASE WHEN halo_flagged THEN list_transform(
            list_concat([{% for column in text_columns %}{{ column }}, {% endfor %}{% for column in json_columns %}{{ column }}::VARCHAR{{ ", " if not loop.last }}{% endfor %}],
                        declared_tools),
            lambda value: redact_secrets(value)) END AS halo_redacted
    FROM (
        SELECT *, CASE WHEN secret_free_under_rules = $secret_rules THEN FALSE
                       ELSE {{ secret_check() }} END AS halo_flagged
        FROM {{ source }}
    )
)
{%- endmacro %}
