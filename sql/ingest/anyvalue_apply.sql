-- Hand the decoded arrays / kvlists back to their spans: halo_stage.decoded maps locator → JSON text.
UPDATE halo_stage
SET decoded = found.texts
FROM (
    SELECT node.stage_row, map_from_entries(list({'key': node.locator, 'value': texts.text})) AS texts
    FROM halo_anyvalues AS node
    JOIN halo_anyvalue_texts AS texts ON texts.node = node.rowid
    WHERE node.level = 0
    GROUP BY node.stage_row
) AS found
WHERE halo_stage.rowid = found.stage_row;
