-- One batch of lines of an OTLP/JSON file → halo_stage: a row per span with its parsed structs, plus
-- line_error for a line that cannot be read at all (then only source_line is set). Input:
-- halo_chunk(line_no BIGINT, raw BLOB), one line per row (a pretty-printed document is one "line");
-- $document_type is the json_transform type of a document. A Jinja template: `resource_keys`,
-- `scope_spans_keys` and `scope_keys` are the alternative names of the containers (resourceSpans,
-- resource_spans, batches; ...) that the batch may hold, in order of preference: readers.py leaves out
-- those no line names, whose fields would be NULL in every row, and $document_type has only the others
-- (binding the nine copies of the span type that all of them make cost ~60 ms a batch, more than
-- parsing a small file). Nothing here raises on bad data: TRY() and
-- lenient json_transform turn it into NULLs that otlp_spans.sql explains (an error would abort the
-- loader's transaction).
-- A SELECT, not a statement: readers.py makes it a TEMP table when AnyValue arrays / kvlists must be
-- decoded into it, else the CTE of otlp_spans.sql (nothing nested is materialized then).
WITH lines AS (
    SELECT line_no, TRY(decode(raw)) AS text
    FROM halo_chunk
), records AS (
    -- A top-level JSON array holds documents: each element becomes a record of the same line (an array
    -- that is not valid JSON stays whole, to be reported below). One scan: no UNION of two kinds of line.
    SELECT line_no, unnest(CASE WHEN regexp_matches(text, '^[ \t\r]*\[')
                                THEN coalesce(CAST(TRY(json_transform(text, '["JSON"]')) AS VARCHAR[]), [text])
                                ELSE [text] END) AS text
    FROM lines
), parsed AS (
    -- opener: the first character that is not a blank ('' for a blank record). Anchored patterns
    -- rather than trims, which would copy every (large) record.
    SELECT line_no, text, regexp_extract(text, '^[ \t\r]*([^ \t\r]?)', 1) AS opener,
        TRY(json_transform(text, $document_type)) AS document
    FROM records
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
    WHERE text IS NULL OR opener <> ''
), resources AS (
    SELECT line_no, line_error,
        unnest(CASE WHEN line_error IS NULL
                    THEN coalesce({% for key in resource_keys %}document.{{ key }}{{ ", " if not loop.last }}{% endfor %})
                    ELSE [NULL] END) AS resource_spans
    FROM checked
), scopes AS (
    SELECT line_no, line_error,
        resource_spans.resource.attributes AS resource_attributes,
        -- Once per resource, not per span (otlp_spans.sql redoes it where arrays / kvlists were decoded).
        halo_otlp_attributes(resource_spans.resource.attributes, CAST(NULL AS MAP(VARCHAR, VARCHAR)), 'r:')
            AS resource_attributes_text,
        unnest(CASE WHEN line_error IS NULL
                    THEN coalesce({% for key in scope_spans_keys %}resource_spans.{{ key }}{{ ", " if not loop.last }}{% endfor %})
                    ELSE [NULL] END) AS scope_spans
    FROM resources
)
SELECT
    line_no AS source_line,
    line_error,
    resource_attributes,
    resource_attributes_text,
    coalesce({% for key in scope_keys %}scope_spans.{{ key }}{{ ", " if not loop.last }}{% endfor %}) AS scope,
    unnest(CASE WHEN line_error IS NULL THEN scope_spans.spans ELSE [NULL] END) AS span,
    CAST(NULL AS MAP(VARCHAR, VARCHAR)) AS decoded,
    CAST(NULL AS VARCHAR) AS attributes_text  -- written by the macro (otlp_spans.sql); Arrow's stage may give it
FROM scopes
