-- The spans of normalize_input that extract_plain.sql leaves to extract_fields.sql (indexed keys or
-- events); /*needs_generic*/ is generated from attribute_map by normalize.py.
CREATE OR REPLACE TEMP TABLE normalize_generic_input AS
SELECT * FROM normalize_input WHERE /*needs_generic*/;
