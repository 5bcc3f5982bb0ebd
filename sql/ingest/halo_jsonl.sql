-- One batch of lines of a HALO / inference.net JSON Lines file (one flattened span per line) →
-- halo_chunk_rows: a raw_spans row per span (JSON columns as text) plus read_error (NULL when good).
-- See otlp_stage.sql for the input and why nothing here may raise; $record_type is the json_transform
-- type of one line. A Jinja template: `events` / `links` are false when no line of the batch names the key
-- (then every span has none: '[]', as otlp_spans.sql), which saves planning their macros (~60 ms a batch).
-- Times are ISO-8601 text with up to nine fraction digits, parsed exactly (never via auto-typing).
CREATE OR REPLACE TEMP TABLE halo_chunk_rows AS
WITH lines AS (
    SELECT line_no, TRY(decode(raw)) AS text
    FROM halo_chunk
), records AS (
    -- A top-level JSON array holds spans: each element becomes a record of the same line (an array
    -- that is not valid JSON stays whole, to be reported below). One scan: no UNION of two kinds of line.
    SELECT line_no, unnest(CASE WHEN starts_with(ltrim(text, E' \t\r'), '[')
                                THEN coalesce(CAST(TRY(json_transform(text, '["JSON"]')) AS VARCHAR[]), [text])
                                ELSE [text] END) AS text
    FROM lines
), parsed AS (
    SELECT line_no, text, left(ltrim(text, E' \t\r'), 1) AS opener,
        CASE WHEN left(ltrim(text, E' \t\r'), 1) = '{' THEN TRY(json_transform(text, $record_type)) END AS span
    FROM records
    WHERE text IS NULL OR trim(text, E' \t\r') <> ''
), spans AS (
    SELECT line_no, span, CASE
        WHEN text IS NULL THEN 'is not valid UTF-8'
        WHEN opener <> '{' THEN
            CASE WHEN json_valid(text) THEN 'is JSON but not an object' ELSE 'is not valid JSON' END
        WHEN span IS NULL THEN 'is not valid JSON'
    END AS line_error
    FROM parsed
)
SELECT
    line_no AS source_line,
    halo_id(span.trace_id) AS trace_id,
    halo_id(span.span_id) AS span_id,
    halo_parent_id(span.parent_span_id) AS parent_span_id,
    nullif(span.trace_state, '') AS trace_state,
    coalesce(span.name, '') AS name,
    halo_kind(span.kind) AS kind,
    halo_iso_nano(span.start_time) AS start_ns,
    nullif(halo_iso_nano(nullif(span.end_time, '')), 0) AS end_ns,
    halo_status(span.status.code) AS status_code,
    nullif(span.status.message, '') AS status_message,
    CASE WHEN halo_is_kind(span.resource.attributes, '{') THEN halo_plain_object(span.resource.attributes) END
        AS resource_attributes,
    CASE WHEN halo_is_kind(span.attributes, '{') THEN halo_plain_object(span.attributes) END AS attributes,
    nullif(span.scope.name, '') AS scope_name,
    nullif(span.scope.version, '') AS scope_version,
    {% if events %}
    CASE WHEN halo_is_kind(span.events, '[') THEN halo_plain_events(span.events) END AS events,
    {% else %}
    '[]' AS events,
    {% endif %}
    {% if links %}
    CASE WHEN halo_is_kind(span.links, '[') THEN halo_plain_links(span.links) END AS links,
    {% else %}
    '[]' AS links,
    {% endif %}
    CASE
        WHEN line_error IS NOT NULL THEN line_error
        WHEN halo_id(span.trace_id) IS NULL THEN halo_span_label(span.name, span.span_id) || ' has no trace_id'
        WHEN halo_id(span.span_id) IS NULL THEN halo_span_label(span.name, span.span_id) || ' has no span_id'
        WHEN regexp_full_match(halo_id(span.trace_id), '0+') OR regexp_full_match(halo_id(span.span_id), '0+')
            THEN halo_span_label(span.name, span.span_id) || ' has an all-zero trace_id or span_id'
        WHEN nullif(span.start_time, '') IS NULL
            THEN halo_span_label(span.name, span.span_id) || ' has no start_time'
        WHEN halo_iso_nano(span.start_time) IS NULL
            THEN halo_span_label(span.name, span.span_id)
                 || ' has a start_time that is not an ISO-8601 time of 1677-2262: ' || halo_excerpt(span.start_time)
        WHEN nullif(span.end_time, '') IS NOT NULL AND halo_iso_nano(span.end_time) IS NULL
            THEN halo_span_label(span.name, span.span_id)
                 || ' has an end_time that is not an ISO-8601 time of 1677-2262: ' || halo_excerpt(span.end_time)
        WHEN NOT halo_is_kind(span.attributes, '{')
            THEN halo_span_label(span.name, span.span_id) || ' has "attributes" that are not an object'
        WHEN NOT halo_is_kind(span.resource.attributes, '{')
            THEN halo_span_label(span.name, span.span_id) || ' has "resource.attributes" that are not an object'
        {% if events %}
        WHEN NOT halo_is_kind(span.events, '[')
            THEN halo_span_label(span.name, span.span_id) || ' has "events" that are not a list'
        {% endif %}
        {% if links %}
        WHEN NOT halo_is_kind(span.links, '[')
            THEN halo_span_label(span.name, span.span_id) || ' has "links" that are not a list'
        {% endif %}
    END AS read_error
FROM spans;
