-- JSON text of every halo_anyvalues row at level $level, from the texts of level $level + 1 (already in
-- halo_anyvalue_texts): arrays keep their order; kvlists become objects, a repeated key keeping its last
-- value. With $keep_raw (the depth limit), an array / kvlist stays its raw AnyValue JSON, in a string.
INSERT INTO halo_anyvalue_texts (node, text)
WITH children AS (
    SELECT child.parent, child.position, child.key, texts.text, parent.value.arrayValue IS NOT NULL AS in_array
    FROM halo_anyvalues AS child
    JOIN halo_anyvalue_texts AS texts ON texts.node = child.rowid
    JOIN halo_anyvalues AS parent ON parent.rowid = child.parent
    WHERE child.level = $level + 1
), kept AS (
    SELECT * FROM children
    QUALIFY in_array OR row_number() OVER (PARTITION BY parent, key ORDER BY position DESC) = 1
), bodies AS (
    SELECT parent, string_agg(
        CASE WHEN in_array THEN text ELSE CAST(to_json(key) AS VARCHAR) || ':' || text END,
        ',' ORDER BY position) AS body
    FROM kept
    GROUP BY parent
)
SELECT node.rowid, coalesce(
    halo_scalar_json(node.value),
    CASE
        WHEN $keep_raw AND node.value.arrayValue IS NOT NULL
            THEN CAST(to_json('{"arrayValue":' || node.value.arrayValue || '}') AS VARCHAR)
        WHEN $keep_raw AND node.value.kvlistValue IS NOT NULL
            THEN CAST(to_json('{"kvlistValue":' || node.value.kvlistValue || '}') AS VARCHAR)
        WHEN node.value.arrayValue IS NOT NULL THEN '[' || coalesce(bodies.body, '') || ']'
        WHEN node.value.kvlistValue IS NOT NULL THEN '{' || coalesce(bodies.body, '') || '}'
    END,
    'null')
FROM halo_anyvalues AS node
LEFT JOIN bodies ON bodies.parent = node.rowid
WHERE node.level = $level;
