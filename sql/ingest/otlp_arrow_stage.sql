-- halo_stage from Arrow's parse of a chunk (arrow_parse.py): halo_arrow_chunk(line_no BIGINT,
-- resourceSpans LIST(...)), one row per line, already typed, so no json_transform and no line checks
-- (a chunk that would fail one takes otlp_stage.sql instead). The same columns as otlp_stage.sql, for the
-- same otlp_spans.sql; line_error is always NULL here.
WITH resources AS (
    SELECT line_no, unnest(resourceSpans) AS resource_spans
    FROM halo_arrow_chunk
), scopes AS (
    SELECT line_no,
        resource_spans.resource.attributes AS resource_attributes,
        halo_otlp_attributes(resource_spans.resource.attributes, CAST(NULL AS MAP(VARCHAR, VARCHAR)), 'r:')
            AS resource_attributes_text,
        unnest(resource_spans.scopeSpans) AS scope_spans
    FROM resources
)
SELECT
    line_no AS source_line,
    CAST(NULL AS VARCHAR) AS line_error,
    resource_attributes,
    resource_attributes_text,
    scope_spans.scope AS scope,
    unnest(scope_spans.spans) AS span,
    CAST(NULL AS MAP(VARCHAR, VARCHAR)) AS decoded
FROM scopes
