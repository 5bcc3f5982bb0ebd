{#- What a trace measures, for every list of traces (`trace list`, the notebook's traces): its start,
    its duration from first start to last end, its spans and error spans, and its usage with each
    token counted once (counts_usage). `s` is the spans grouped by trace_id. -#}
{% macro trace_extent() -%}
s.trace_id,
min(s.start_time)                                                        AS start_time,
(max(s.end_ns) - min(s.start_ns)) / 1e6                                  AS duration_ms,
count(*)                                                                 AS span_count,
count(*) FILTER (WHERE s.status_code = 'error')                          AS error_count,
{%- endmacro %}
{% macro trace_usage() -%}
sum(s.input_tokens) FILTER (WHERE s.counts_usage)                        AS input_tokens,
sum(s.output_tokens) FILTER (WHERE s.counts_usage)                       AS output_tokens,
sum(s.cost_usd) FILTER (WHERE s.counts_usage)                            AS cost_usd,
{%- endmacro %}
