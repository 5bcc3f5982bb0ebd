-- The AnyValue arrays and kvlists of halo_stage → halo_anyvalues level 0, one row per such attribute
-- value. halo_anyvalues is a tree (parent = rowid of the parent row) that anyvalue_children.sql grows one
-- level at a time and anyvalue_assemble.sql turns into JSON text from the leaves up.
CREATE OR REPLACE TEMP TABLE halo_anyvalues AS
SELECT
    0 AS level,
    stage_row,
    found.locator AS locator,
    CAST(NULL AS BIGINT) AS parent,
    CAST(NULL AS BIGINT) AS position,
    CAST(NULL AS VARCHAR) AS key,
    found.value AS value
FROM (
    SELECT rowid AS stage_row, unnest(flatten([
        halo_container_values(resource_attributes, 'r:'),
        halo_container_values(span.attributes, 'a:'),
        flatten(list_transform(coalesce(span.events, []), lambda event, position:
            halo_container_values(event.attributes, 'e' || position || ':'))),
        flatten(list_transform(coalesce(span.links, []), lambda link, position:
            halo_container_values(link.attributes, 'l' || position || ':')))
    ])) AS found
    FROM halo_stage
    WHERE line_error IS NULL
);
