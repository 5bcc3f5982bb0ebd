{#- The one list of span columns whose text is redacted, shared by a run's snapshot (runs/snapshot.sql)
    and the sandbox copy of the store (sandbox/redacted_spans.sql). Every text and JSON column goes
    through `redact_secrets` (halo_local/redact.py's sql_macro), so no query over the result
    (upper(), reverse(), ...) can reshape a secret past the redaction. Ids and numbers are copied as
    they are; a JSON value the redaction made invalid is kept as a JSON string. -#}
{% macro redacted_spans(source) -%}
SELECT * REPLACE (
    coalesce(try_cast(attributes AS JSON), to_json(attributes))                   AS attributes,
    coalesce(try_cast(resource_attributes AS JSON), to_json(resource_attributes)) AS resource_attributes,
    coalesce(try_cast(events AS JSON), to_json(events))                           AS events,
    coalesce(try_cast(links AS JSON), to_json(links))                             AS links
)
FROM (
    SELECT * REPLACE (
        redact_secrets(name)                         AS name,
        redact_secrets(kind)                         AS kind,
        redact_secrets(status_message)               AS status_message,
        redact_secrets(service_name)                 AS service_name,
        redact_secrets(agent_name)                   AS agent_name,
        redact_secrets(session_id)                   AS session_id,
        redact_secrets(provider)                     AS provider,
        redact_secrets(model)                        AS model,
        redact_secrets(tool_name)                    AS tool_name,
        redact_secrets(tool_arguments)               AS tool_arguments,
        redact_secrets(tool_result)                  AS tool_result,
        list_transform(declared_tools, lambda tool: redact_secrets(tool)) AS declared_tools,
        redact_secrets(finish_reason)                AS finish_reason,
        redact_secrets(error_type)                   AS error_type,
        redact_secrets(error_message)                AS error_message,
        redact_secrets(input_text)                   AS input_text,
        redact_secrets(output_text)                  AS output_text,
        redact_secrets(scope_name)                   AS scope_name,
        redact_secrets(scope_version)                AS scope_version,
        redact_secrets(attributes::VARCHAR)          AS attributes,
        redact_secrets(resource_attributes::VARCHAR) AS resource_attributes,
        redact_secrets(events::VARCHAR)              AS events,
        redact_secrets(links::VARCHAR)               AS links,
        redact_secrets(source_file)                  AS source_file
    )
    FROM {{ source }}
)
{%- endmacro %}
