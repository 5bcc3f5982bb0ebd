-- halo_stage from Arrow's parse of a chunk (arrow_parse.py): halo_arrow_spans, one row per span already
-- flattened and typed, so no json_transform and no line checks (a chunk that would fail one takes
-- otlp_stage.sql instead). The same columns as otlp_stage.sql, for the same otlp_spans.sql; line_error is
-- always NULL here. The attributes' JSON text comes from Arrow where it could write it exactly, else
-- (NULL) from the macro, as on the SQL path.
SELECT
    line_no AS source_line,
    CAST(NULL AS VARCHAR) AS line_error,
    resource_attributes,
    coalesce(resource_attributes_text,
             halo_otlp_attributes(resource_attributes, CAST(NULL AS MAP(VARCHAR, VARCHAR)), 'r:'))
        AS resource_attributes_text,
    scope,
    span,
    CAST(NULL AS MAP(VARCHAR, VARCHAR)) AS decoded,
    attributes_text
FROM halo_arrow_spans
