-- Macros of the HALO JSON Lines reader (needs macros.sql): its attributes are plain JSON objects already.

-- A member value's JSON text; an over-long string is cut and followed by its markers (macros.sql).
CREATE OR REPLACE TEMP MACRO halo_plain_value_text(key, value) AS CASE
    WHEN json_type(value) = 'VARCHAR' AND halo_is_overlong(value ->> '$')
        THEN halo_cut_string_json(value ->> '$') || halo_cut_markers(key, value ->> '$')
    ELSE CAST(value AS VARCHAR)
END;

-- Whether a JSON object holds an over-long string value; only an object longer than the cap can.
CREATE OR REPLACE TEMP MACRO halo_has_overlong(object) AS CASE
    WHEN strlen(object) <= getvariable('halo_value_cap') THEN false
    ELSE coalesce(list_bool_or(list_transform(json_extract(object, '$.*'),
                  lambda value: json_type(value) = 'VARCHAR' AND halo_is_overlong(value ->> '$'))), false)
END;

-- A plain JSON object as written (JSON nulls kept), or {} when absent; duplicate keys: last wins.
-- Only objects that do have a duplicate key or an over-long string value are rebuilt.
CREATE OR REPLACE TEMP MACRO halo_plain_object(object) AS CASE
    WHEN object IS NULL OR object = 'null' THEN '{}'
    ELSE list_transform([json_keys(object)], lambda keys: CASE
        WHEN len(list_distinct(keys)) = len(keys) AND NOT halo_has_overlong(object) THEN object
        ELSE list_transform([json_extract(object, '$.*')], lambda object_values: halo_json_object(
                 list_transform(keys, lambda key, position: {
                     'key': key, 'text': halo_plain_value_text(key, object_values[position])})))[1]
    END)[1]
END;

-- Events as HALO-style JSON ([{name, time | timestamp (ISO) | timeUnixNano, attributes {}}]) → the
-- raw_spans shape [{"name", "timeUnixNano", "attributes"}].
CREATE OR REPLACE TEMP MACRO halo_plain_events(events) AS '[' || array_to_string(list_transform(
    coalesce(json_transform(events, '[{"name":"VARCHAR","time":"VARCHAR","timestamp":"VARCHAR","timeUnixNano":"VARCHAR","time_unix_nano":"VARCHAR","attributes":"JSON"}]'), []),
    lambda event:
        '{"name":' || halo_json_text(coalesce(event.name, ''))
        || ',"timeUnixNano":' || coalesce(CAST(coalesce(
               halo_unix_nano(coalesce(event.timeUnixNano, event.time_unix_nano)),
               halo_iso_nano(coalesce(event.time, event.timestamp))) AS VARCHAR), 'null')
        || ',"attributes":' || halo_plain_object(event.attributes) || '}'), ',') || ']';

-- Links as HALO-style JSON ([{trace_id, span_id, trace_state, attributes {}}], camelCase accepted too).
CREATE OR REPLACE TEMP MACRO halo_plain_links(links) AS '[' || array_to_string(list_transform(
    coalesce(json_transform(links, '[{"trace_id":"VARCHAR","span_id":"VARCHAR","trace_state":"VARCHAR","traceId":"VARCHAR","spanId":"VARCHAR","traceState":"VARCHAR","attributes":"JSON"}]'), []),
    lambda link:
        '{"traceId":' || halo_json_text(halo_id(coalesce(link.trace_id, link.traceId)))
        || ',"spanId":' || halo_json_text(halo_id(coalesce(link.span_id, link.spanId)))
        || ',"traceState":' || halo_json_text(nullif(coalesce(link.trace_state, link.traceState), ''))
        || ',"attributes":' || halo_plain_object(link.attributes) || '}'), ',') || ']';

-- Whether a JSON value (text) that must be of a given kind ('{' object, '[' array) is absent, null or that kind.
CREATE OR REPLACE TEMP MACRO halo_is_kind(value, opener) AS
    value IS NULL OR value = 'null' OR left(value, 1) = opener;
