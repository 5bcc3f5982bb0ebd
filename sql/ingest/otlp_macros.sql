-- Macros of the OTLP/JSON reader (needs macros.sql).
--
-- AnyValue arrays and kvlists are decoded relationally (anyvalue_*.sql), not here: DuckDB macros cannot
-- recurse, and nesting lambdas costs exponential bind time. Their JSON text arrives in `decoded`, a map
-- from a locator to text: 'r:<i>' resource attribute i, 'a:<i>' span attribute i, 'e<j>:<i>' attribute i
-- of event j, 'l<j>:<i>' attribute i of link j (1-based).

-- A list of OTLP KeyValue structs → JSON object text (duplicate keys: last wins). Keys are nearly
-- always distinct: then the text is written straight away, without the deduplicating halo_json_object.
-- A value's JSON text followed by the markers of a cut over-long string (macros.sql): this text always
-- follows `"key":` in an object, so the markers become the object's next members.
CREATE OR REPLACE TEMP MACRO halo_otlp_value_text(pair, position, decoded, prefix) AS CASE
    WHEN halo_is_overlong(pair.value.stringValue)
        THEN halo_cut_string_json(pair.value.stringValue)
             || halo_cut_markers(coalesce(pair.key, ''), pair.value.stringValue)
    ELSE coalesce(halo_scalar_json(pair.value), decoded[prefix || position], 'null')
END;

CREATE OR REPLACE TEMP MACRO halo_otlp_attributes(key_values, decoded, prefix) AS CASE
    WHEN len(list_distinct(list_transform(key_values, lambda pair: coalesce(pair.key, '')))) = len(key_values)
        THEN '{' || array_to_string(list_transform(key_values, lambda pair, position:
            CAST(to_json(coalesce(pair.key, '')) AS VARCHAR) || ':'
            || halo_otlp_value_text(pair, position, decoded, prefix)), ',') || '}'
    ELSE halo_json_object(list_transform(key_values, lambda pair, position: {
        'key': coalesce(pair.key, ''), 'text': halo_otlp_value_text(pair, position, decoded, prefix)}))
END;

-- Span events → JSON text [{"name", "timeUnixNano", "attributes"}] (timeUnixNano an integer). Most spans
-- have none: '[]' without the lambdas, which cost a quarter of the parse when evaluated for every span.
CREATE OR REPLACE TEMP MACRO halo_otlp_events(events, decoded) AS CASE WHEN coalesce(len(events), 0) = 0 THEN '[]'
    ELSE '[' || array_to_string(list_transform(
    events, lambda event, position:
        '{"name":' || halo_json_text(coalesce(event.name, ''))
        || ',"timeUnixNano":' || coalesce(CAST(halo_unix_nano(event.timeUnixNano) AS VARCHAR), 'null')
        || ',"attributes":' || halo_otlp_attributes(event.attributes, decoded, 'e' || position || ':') || '}'),
    ',') || ']' END;

-- Span links → JSON text [{"traceId", "spanId", "traceState", "attributes"}] (ids normalized like spans');
-- '[]' straight away for none, as events.
CREATE OR REPLACE TEMP MACRO halo_otlp_links(links, decoded) AS CASE WHEN coalesce(len(links), 0) = 0 THEN '[]'
    ELSE '[' || array_to_string(list_transform(
    links, lambda link, position:
        '{"traceId":' || halo_json_text(halo_id(link.traceId))
        || ',"spanId":' || halo_json_text(halo_id(link.spanId))
        || ',"traceState":' || halo_json_text(nullif(link.traceState, ''))
        || ',"attributes":' || halo_otlp_attributes(link.attributes, decoded, 'l' || position || ':') || '}'),
    ',') || ']' END;

-- The array / kvlist values among a list of KeyValues, as {locator, value} (see above).
CREATE OR REPLACE TEMP MACRO halo_container_values(key_values, prefix) AS list_filter(
    list_transform(coalesce(key_values, []), lambda pair, position: {'locator': prefix || position, 'value': pair.value}),
    lambda found: found.value.arrayValue IS NOT NULL OR found.value.kvlistValue IS NOT NULL);
