-- halo_stage (with its arrays / kvlists decoded) → halo_chunk_rows: the raw_spans columns (the JSON ones
-- as text, validated once when inserted into raw_spans) plus read_error, NULL when the row is good, else
-- why the line or span cannot be loaded. A SELECT: readers.py puts it after the table or CTE halo_stage.
-- A Jinja template: `events` / `links` are false when no line of the batch names the key, so that every
-- span has none and its column is '[]' without planning the macro (a fixed cost that dominates small files);
-- `decoded` is false when halo_stage's decoded is NULL in every row (no AnyValue array or kvlist was
-- decoded into it): the resource's text is then the stage's own, without binding the macro again (~7 ms).
SELECT
    source_line,
    trace_id,
    span_id,
    CASE WHEN regexp_full_match(coalesce(parent_id, '0'), '0+') THEN NULL ELSE parent_id END AS parent_span_id,
    nullif(span.traceState, '') AS trace_state,
    coalesce(span.name, '') AS name,
    halo_kind(span.kind) AS kind,
    start_ns,
    nullif(end_ns, 0) AS end_ns,
    halo_status(span.status.code) AS status_code,
    nullif(span.status.message, '') AS status_message,
    {% if decoded -%}
    CASE WHEN decoded IS NULL THEN resource_attributes_text
         ELSE halo_otlp_attributes(resource_attributes, decoded, 'r:') END AS resource_attributes,
    {% else -%}
    resource_attributes_text AS resource_attributes,
    {% endif -%}
    coalesce(attributes_text, halo_otlp_attributes(span.attributes, decoded, 'a:')) AS attributes,
    nullif(scope.name, '') AS scope_name,
    nullif(scope.version, '') AS scope_version,
    {{ "halo_otlp_events(span.events, decoded)" if events else "'[]'" }} AS events,
    {{ "halo_otlp_links(span.links, decoded)" if links else "'[]'" }} AS links,
    CASE
        WHEN line_error IS NOT NULL THEN line_error
        WHEN span IS NULL THEN 'has a span that is not an object'
        WHEN trace_id IS NULL
            THEN halo_span_label(span.name, span.spanId) || ' has no traceId'
        WHEN span_id IS NULL
            THEN halo_span_label(span.name, span.spanId) || ' has no spanId'
        WHEN regexp_full_match(trace_id, '0+') OR regexp_full_match(span_id, '0+')
            THEN halo_span_label(span.name, span.spanId) || ' has an all-zero traceId or spanId'
        WHEN span.startTimeUnixNano IS NULL
            THEN halo_span_label(span.name, span.spanId) || ' has no startTimeUnixNano'
        WHEN start_ns IS NULL
            THEN halo_span_label(span.name, span.spanId) || ' has a startTimeUnixNano that is not an integer: '
                 || halo_excerpt(span.startTimeUnixNano)
        WHEN span.endTimeUnixNano IS NOT NULL AND end_ns IS NULL
            THEN halo_span_label(span.name, span.spanId) || ' has an endTimeUnixNano that is not an integer: '
                 || halo_excerpt(span.endTimeUnixNano)
    END AS read_error
FROM (
    -- Each id and time converted once, for its column and for the checks (halo_parent_id inlined).
    SELECT
        *,
        halo_id(span.traceId) AS trace_id,
        halo_id(span.spanId) AS span_id,
        halo_id(span.parentSpanId) AS parent_id,
        halo_unix_nano(span.startTimeUnixNano) AS start_ns,
        halo_unix_nano(span.endTimeUnixNano) AS end_ns
    FROM halo_stage
) AS halo_converted
