{% import 'normalize/extract_shape.sql' as shape -%}
-- The spans of normalize_input that extract_plain.sql leaves to extract_fields.sql (indexed keys or
-- events); the test is generated from attribute_map (extract_shape.sql).
CREATE OR REPLACE TEMP TABLE normalize_generic_input AS
SELECT * FROM normalize_input WHERE {{ shape.needs_generic(events, prefix_parameters) }};
