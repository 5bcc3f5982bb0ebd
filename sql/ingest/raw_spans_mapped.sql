-- The one-pass load's raw_spans (onepass.py) carries, beside the contract's columns, each span's mapped
-- attributes as Arrow's parse looked them up in the typed key/value list: key → {text: as
-- json_extract_string reads it from the attributes' JSON text, value: as json_extract does}. NULL where
-- the span's attributes must be read from that text (extract_plain.sql does).
ALTER TABLE raw_spans ADD COLUMN mapped_fields MAP(VARCHAR, STRUCT(text VARCHAR, value VARCHAR));
