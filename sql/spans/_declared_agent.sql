{#- The agent a span declares for itself (GenAI, OpenInference, common spellings), else its stored agent:
    who the detectors blame for what a span did (heuristics/_prepare.sql). A run's snapshot writes it as
    the column `declared_agent` (runs/snapshot.sql), where the attributes are read anyway, so the detectors
    need not read and search every span's attributes again; a window without the column gets it from this
    same expression. Every key read ends in agent.name or agent_name, written with a plain quote after it
    in the stored JSON: attributes without that text are not parsed (one pattern, one read of the text). -#}
{% macro declared_agent(attributes, stored_agent) -%}
CASE WHEN regexp_matches({{ attributes }}::VARCHAR, 'agent[._]name"')
     THEN coalesce(nullif(trim(json_extract_string({{ attributes }}, '$."gen_ai.agent.name"')), ''),
                   nullif(trim(json_extract_string({{ attributes }}, '$."agent.name"')), ''),
                   nullif(trim(json_extract_string({{ attributes }}, '$."agent_name"')), ''),
                   nullif(trim(json_extract_string({{ attributes }}, '$."inference.agent_name"')), ''),
                   nullif(trim({{ stored_agent }}), ''))
     ELSE nullif(trim({{ stored_agent }}), '') END
{%- endmacro %}
