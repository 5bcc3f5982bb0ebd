-- Grow halo_anyvalues by one level: the elements of every array / kvlist at level $level. Array
-- elements are AnyValues (fields at the top), kvlist elements are {key, value}; one json_transform reads
-- both. Returns the number of rows added (0: the tree is complete).
INSERT INTO halo_anyvalues (level, stage_row, locator, parent, position, key, value)
SELECT $level + 1, NULL, NULL, parent, element.position, element.key, element.value
FROM (
    SELECT rowid AS parent, unnest(list_transform(
        json_transform(coalesce(value.arrayValue, value.kvlistValue), '{"values": [{
            "key": "VARCHAR",
            "value": {"stringValue": "VARCHAR", "boolValue": "BOOLEAN", "intValue": "VARCHAR", "doubleValue": "DOUBLE",
                      "bytesValue": "VARCHAR", "arrayValue": "JSON", "kvlistValue": "JSON"},
            "stringValue": "VARCHAR", "boolValue": "BOOLEAN", "intValue": "VARCHAR", "doubleValue": "DOUBLE",
            "bytesValue": "VARCHAR", "arrayValue": "JSON", "kvlistValue": "JSON"}]}').values,
        lambda item, position: {
            'position': position,
            'key': coalesce(item.key, ''),
            'value': CASE WHEN value.arrayValue IS NOT NULL THEN {
                'stringValue': item.stringValue, 'boolValue': item.boolValue, 'intValue': item.intValue,
                'doubleValue': item.doubleValue, 'bytesValue': item.bytesValue,
                'arrayValue': item.arrayValue, 'kvlistValue': item.kvlistValue} ELSE item.value END})) AS element
    FROM halo_anyvalues
    WHERE level = $level AND (value.arrayValue IS NOT NULL OR value.kvlistValue IS NOT NULL)
);
