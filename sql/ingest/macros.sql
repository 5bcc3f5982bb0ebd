-- Scalar helpers shared by the trace readers (TEMP macros of the reader's private work database).
-- Every macro here is total: bad input gives NULL (or a fallback), never an error, because the reader
-- must name the line or span that is wrong, which a failed statement cannot tell.

-- An OTLP id: hex (any case) → lower-case hex; base64 of 8 or 16 bytes (protobuf JSON, Tempo) → hex;
-- anything else kept as given (HALO's 24-hex span ids are hex and simply lower-cased).
CREATE OR REPLACE TEMP MACRO halo_id(id) AS CASE
    WHEN id IS NULL OR trim(id) = '' THEN NULL
    WHEN regexp_full_match(id, '[0-9A-Fa-f]+') THEN lower(id)
    WHEN regexp_full_match(id, '[A-Za-z0-9+/_-]{11,24}={0,2}') THEN coalesce(
        list_transform(
            [TRY(from_base64(rpad(translate(rtrim(id, '='), '-_', '+/'),
                                  CAST(ceil(length(rtrim(id, '=')) / 4) * 4 AS INTEGER), '=')))],
            lambda decoded: CASE WHEN octet_length(decoded) IN (8, 16) THEN lower(hex(decoded)) END)[1],
        id)
    ELSE id
END;

-- A parent id: like halo_id, but empty and all-zero ids mean "no parent".
CREATE OR REPLACE TEMP MACRO halo_parent_id(id) AS CASE
    WHEN regexp_full_match(coalesce(halo_id(id), '0'), '0+') THEN NULL
    ELSE halo_id(id)
END;

-- Span kind from an int (0-5) or a name (SPAN_KIND_CLIENT, client), as text or (Arrow's parse) BIGINT;
-- unknown → unspecified.
CREATE OR REPLACE TEMP MACRO halo_kind(k) AS CASE TRY_CAST(k AS BIGINT)
    WHEN 0 THEN 'unspecified' WHEN 1 THEN 'internal' WHEN 2 THEN 'server'
    WHEN 3 THEN 'client' WHEN 4 THEN 'producer' WHEN 5 THEN 'consumer'
    ELSE coalesce(list_transform([lower(replace(upper(trim(CAST(k AS VARCHAR))), 'SPAN_KIND_', ''))], lambda name:
        CASE WHEN name IN ('unspecified', 'internal', 'server', 'client', 'producer', 'consumer') THEN name END)[1],
        'unspecified')
END;

-- Status code from an int (0-2) or a name (STATUS_CODE_ERROR, error), as text or BIGINT; unknown → unset.
CREATE OR REPLACE TEMP MACRO halo_status(c) AS CASE TRY_CAST(c AS BIGINT)
    WHEN 0 THEN 'unset' WHEN 1 THEN 'ok' WHEN 2 THEN 'error'
    ELSE coalesce(list_transform([lower(replace(upper(trim(CAST(c AS VARCHAR))), 'STATUS_CODE_', ''))], lambda name:
        CASE WHEN name IN ('unset', 'ok', 'error') THEN name END)[1], 'unset')
END;

-- Epoch nanoseconds from an OTLP fixed64 (decimal string or JSON number); NULL when not an integer.
CREATE OR REPLACE TEMP MACRO halo_unix_nano(v) AS TRY_CAST(v AS BIGINT);

-- Epoch nanoseconds from ISO-8601 text, all nine fraction digits kept (no timezone means UTC);
-- a bare integer is read as epoch nanoseconds. NULL when the text is neither, or is outside the years
-- 1677-2262 that int64 nanoseconds can hold.
CREATE OR REPLACE TEMP MACRO halo_iso_nano(v) AS coalesce(
    TRY(epoch_ns(try_strptime(v, '%Y-%m-%dT%H:%M:%S.%nZ'))),
    CASE WHEN regexp_full_match(v, '-?[0-9]+') THEN TRY_CAST(v AS BIGINT) END,
    list_transform(
        [regexp_extract(trim(v),
            '^([0-9]{4}-[0-9]{2}-[0-9]{2})[Tt ]([0-9]{2}:[0-9]{2}:[0-9]{2})(?:[.,]([0-9]+))?([Zz]|[+-][0-9]{2}:?[0-9]{2})?$',
            ['day', 'clock', 'fraction', 'zone'])],
        lambda parts: CASE WHEN parts.day <> '' THEN TRY(
            epoch_ns(TRY_CAST(parts.day || ' ' || parts.clock AS TIMESTAMP))
            + CAST(left(parts.fraction || '000000000', 9) AS BIGINT)
            - CASE WHEN parts.zone IN ('', 'Z', 'z') THEN 0
                   ELSE (CASE WHEN left(parts.zone, 1) = '-' THEN -1 ELSE 1 END)
                        * (CAST(substr(parts.zone, 2, 2) AS BIGINT) * 3600
                           + CAST(right(parts.zone, 2) AS BIGINT) * 60) * 1000000000 END)
        END)[1]);

-- A double as JSON: NaN and ±Infinity become strings (as in proto3 JSON), since JSON has no such numbers.
CREATE OR REPLACE TEMP MACRO halo_double_json(d) AS CASE
    WHEN isnan(d) THEN '"NaN"'
    WHEN isinf(d) AND d > 0 THEN '"Infinity"'
    WHEN isinf(d) THEN '"-Infinity"'
    ELSE CAST(to_json(d) AS VARCHAR)
END;

-- A JSON object built from a list of {key, text} items (text is already JSON); duplicate keys: last wins.
-- The list is bound once through a one-element list_transform so that it is not evaluated repeatedly.
CREATE OR REPLACE TEMP MACRO halo_json_object(items) AS coalesce(list_transform([items], lambda its:
    '{' || array_to_string(list_transform(
        CASE WHEN len(list_distinct(list_transform(its, lambda item: item.key))) = len(its) THEN its
             ELSE list_filter(its, lambda item, position:
                      list_position(list_reverse(list_transform(its, lambda other: other.key)), item.key)
                      = len(its) - position + 1)
        END,
        lambda item: CAST(to_json(item.key) AS VARCHAR) || ':' || item.text), ',') || '}')[1], '{}');

-- The JSON of a scalar AnyValue (v: struct of stringValue, intValue, boolValue, doubleValue, bytesValue):
-- string → string, int → number (int64 exact; text that is not an int64 stays a string), double → number
-- (NaN, ±Infinity as strings), bool → bool, bytes → their base64 string. NULL when v holds no scalar.
CREATE OR REPLACE TEMP MACRO halo_scalar_json(v) AS CASE
    WHEN v.stringValue IS NOT NULL THEN CAST(to_json(v.stringValue) AS VARCHAR)
    WHEN v.intValue IS NOT NULL
        THEN coalesce(CAST(TRY_CAST(v.intValue AS BIGINT) AS VARCHAR), CAST(to_json(v.intValue) AS VARCHAR))
    WHEN v.boolValue IS NOT NULL THEN CASE WHEN v.boolValue THEN 'true' ELSE 'false' END
    WHEN v.doubleValue IS NOT NULL THEN halo_double_json(v.doubleValue)
    WHEN v.bytesValue IS NOT NULL THEN CAST(to_json(v.bytesValue) AS VARCHAR)
END;

-- Over-long attribute values. A string value of more than getvariable('halo_value_cap') characters
-- (HALO_ATTRIBUTE_VALUE_LIMIT, set by readers.py from sql/ingest/value_cap.sql) is stored as its first
-- halo_value_cap characters, and two sibling keys keep what was cut: "<key>.halo_truncated_length" (the
-- full length in characters) and "<key>.halo_sha256" (hex SHA-256 of the full value's UTF-8). strlen is
-- checked first: it costs nothing, and only a value of more bytes than the cap can have more characters.
CREATE OR REPLACE TEMP MACRO halo_is_overlong(s) AS coalesce(
    CASE WHEN strlen(s) <= getvariable('halo_value_cap') THEN false
         ELSE length(s) > getvariable('halo_value_cap') END, false);

-- The string's JSON, cut to the cap when it is over-long.
CREATE OR REPLACE TEMP MACRO halo_cut_string_json(s) AS CAST(to_json(
    CASE WHEN halo_is_overlong(s) THEN left(s, getvariable('halo_value_cap')) ELSE s END) AS VARCHAR);

-- The marker members that follow an over-long string value of `key` in its object ('' for any other value):
-- ',"<key>.halo_truncated_length":N,"<key>.halo_sha256":"..."'.
CREATE OR REPLACE TEMP MACRO halo_cut_markers(key, s) AS CASE WHEN halo_is_overlong(s) THEN
    ',' || CAST(to_json(key || '.halo_truncated_length') AS VARCHAR) || ':' || CAST(length(s) AS VARCHAR)
    || ',' || CAST(to_json(key || '.halo_sha256') AS VARCHAR) || ':"' || sha256(s) || '"'
    ELSE '' END;

-- How an error message names a span: by name and id as written in the file.
CREATE OR REPLACE TEMP MACRO halo_span_label(name, id) AS
    'span ' || coalesce(CAST(to_json(name) AS VARCHAR), '(no name)') || coalesce(' (id ' || id || ')', '');

-- A bad value quoted in an error message, cut short.
CREATE OR REPLACE TEMP MACRO halo_excerpt(value) AS
    CAST(to_json(CASE WHEN length(value) > 40 THEN left(value, 40) || '…' ELSE value END) AS VARCHAR);

-- A value as JSON text; SQL NULL → null (to_json(NULL) is NULL, which would void a concatenation).
CREATE OR REPLACE TEMP MACRO halo_json_text(value) AS coalesce(CAST(to_json(value) AS VARCHAR), 'null');
