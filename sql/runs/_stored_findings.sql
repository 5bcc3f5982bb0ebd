{#- A run's findings as saved, each with its `affectedTraceIds` read back from run_finding_traces
    (schema/011_run_finding_traces.sql): `stored_findings("r")` is the JSON list of the run row `r`,
    NULL when the run has no findings. A finding without rows there covers no trace. -#}
{% macro stored_findings(run) -%}
CASE WHEN {{ run }}.findings IS NOT NULL THEN (
    SELECT coalesce(to_json(list(
               CASE WHEN covered.trace_ids IS NULL THEN listed.item
                    ELSE json_merge_patch(listed.item, json_object('affectedTraceIds', covered.trace_ids)) END
               ORDER BY listed.finding)), '[]')
    FROM (SELECT unnest(CAST({{ run }}.findings AS JSON[])) AS item,
                 generate_subscripts(CAST({{ run }}.findings AS JSON[]), 1) AS finding) AS listed
    LEFT JOIN (SELECT finding, list(trace_id ORDER BY position) AS trace_ids
               FROM run_finding_traces WHERE run_finding_traces.run_id = {{ run }}.run_id
               GROUP BY finding) AS covered USING (finding)
) END
{%- endmacro %}
