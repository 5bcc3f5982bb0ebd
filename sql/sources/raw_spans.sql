-- The fetched selection (Arrow `clickhouse_selection`, columns of clickhouse/selection.sql) in the
-- reader -> normalize contract (ingest/raw_spans.sql), so it is normalized like a loaded file. The
-- exporter's maps become JSON objects, its nested events and links the OTLP reader's JSON arrays,
-- its status and kind names the readers' lower-case forms.
CREATE OR REPLACE TEMP TABLE raw_spans AS
SELECT
    CAST(row_number() OVER (ORDER BY start_ns, trace_id, span_id) AS BIGINT) AS source_line,
    lower(trace_id)                                                    AS trace_id,
    lower(span_id)                                                     AS span_id,
    lower(nullif(parent_span_id, ''))                                  AS parent_span_id,
    nullif(trace_state, '')                                            AS trace_state,
    name,
    coalesce(nullif(regexp_replace(lower(kind), '^span_kind_', ''), ''), 'unspecified') AS kind,
    start_ns,
    end_ns,
    CASE regexp_replace(lower(status_code), '^status_code_', '')
        WHEN 'error' THEN 'error' WHEN 'ok' THEN 'ok' ELSE 'unset' END AS status_code,
    nullif(status_message, '')                                         AS status_message,
    to_json(map_from_entries(list_sort(map_entries(resource_attributes)))) AS resource_attributes,
    to_json(map_from_entries(list_sort(map_entries(attributes))))      AS attributes,
    nullif(scope_name, '')                                             AS scope_name,
    nullif(scope_version, '')                                          AS scope_version,
    to_json(list_transform(range(1, len(event_names) + 1), lambda i: {
        'name': event_names[i], 'timeUnixNano': event_times[i],
        'attributes': map_from_entries(map_entries(event_attributes[i]))})) AS events,
    to_json(list_transform(range(1, len(link_trace_ids) + 1), lambda i: {
        'traceId': link_trace_ids[i], 'spanId': link_span_ids[i],
        'attributes': map_from_entries(map_entries(link_attributes[i]))})) AS links
FROM clickhouse_selection;
