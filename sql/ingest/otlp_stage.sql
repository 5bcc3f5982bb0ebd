-- One batch of lines of an OTLP/JSON file → halo_stage: a row per span with its parsed structs, plus
-- line_error for a line that cannot be read at all (then only source_line is set). Input:
-- halo_chunk(line_no BIGINT, raw BLOB), one line per row (a pretty-printed document is one "line");
-- $document_type is the json_transform type of a document. Nothing here raises on bad data: TRY() and
-- lenient json_transform turn it into NULLs that otlp_spans.sql explains (an error would abort the
-- loader's transaction).
CREATE OR REPLACE TEMP TABLE halo_stage AS
WITH lines AS (
    SELECT line_no, TRY(decode(raw)) AS text
    FROM halo_chunk
), records AS (
    -- A top-level JSON array holds documents: each element becomes a record of the same line (an array
    -- that is not valid JSON stays whole, to be reported below). One scan: no UNION of two kinds of line.
    SELECT line_no, unnest(CASE WHEN starts_with(ltrim(text, E' \t\r'), '[')
                                THEN coalesce(CAST(TRY(json_transform(text, '["JSON"]')) AS VARCHAR[]), [text])
                                ELSE [text] END) AS text
    FROM lines
), parsed AS (
    SELECT line_no, text, left(ltrim(text, E' \t\r'), 1) AS opener,
        CASE WHEN left(ltrim(text, E' \t\r'), 1) = '{' THEN TRY(json_transform(text, $document_type)) END AS document
    FROM records
    WHERE text IS NULL OR trim(text, E' \t\r') <> ''
), checked AS (
    SELECT line_no, document, CASE
        WHEN text IS NULL THEN 'is not valid UTF-8'
        WHEN opener <> '{' THEN
            CASE WHEN json_valid(text) THEN 'is JSON but not an object' ELSE 'is not valid JSON' END
        WHEN document IS NULL THEN 'is not valid JSON'
        -- Lenient json_transform reads a list field holding anything else as absent; in valid JSON an
        -- unescaped "name": can only be a key, so this finds such fields without a second parse.
        WHEN regexp_matches(text, '"(resourceSpans|resource_spans|batches|scopeSpans|scope_spans|instrumentationLibrarySpans|spans|attributes|events|links|values)"\s*:\s*[^\[\sn]')
            THEN '"' || regexp_extract(text, '"(resourceSpans|resource_spans|batches|scopeSpans|scope_spans|instrumentationLibrarySpans|spans|attributes|events|links|values)"\s*:\s*[^\[\sn]', 1)
                 || '" is not a list'
        WHEN regexp_matches(text, '"value"\s*:\s*[^{\sn]') THEN 'has an attribute "value" that is not an AnyValue object'
    END AS line_error
    FROM parsed
), resources AS (
    SELECT line_no, line_error,
        unnest(CASE WHEN line_error IS NULL
                    THEN coalesce(document.resourceSpans, document.resource_spans, document.batches)
                    ELSE [NULL] END) AS resource_spans
    FROM checked
), scopes AS (
    SELECT line_no, line_error,
        resource_spans.resource.attributes AS resource_attributes,
        unnest(CASE WHEN line_error IS NULL
                    THEN coalesce(resource_spans.scopeSpans, resource_spans.scope_spans,
                                  resource_spans.instrumentationLibrarySpans)
                    ELSE [NULL] END) AS scope_spans
    FROM resources
)
SELECT
    line_no AS source_line,
    line_error,
    resource_attributes,
    coalesce(scope_spans.scope, scope_spans.instrumentationLibrary) AS scope,
    unnest(CASE WHEN line_error IS NULL THEN scope_spans.spans ELSE [NULL] END) AS span,
    CAST(NULL AS MAP(VARCHAR, VARCHAR)) AS decoded
FROM scopes;
