-- The one-pass loader's raw_spans (after raw_spans.sql) holds the JSON columns as text: its rows come
-- from Arrow's writer or the parse SQL's to_json, valid by construction, and the store's insert into
-- spans validates them once more as it casts them to JSON. Validating them on the way in as well cost
-- ~0.7 of the storing thread's CPU-s at 1M spans; normalize's JSON functions read text alike.
ALTER TABLE raw_spans ALTER resource_attributes TYPE VARCHAR;
ALTER TABLE raw_spans ALTER attributes TYPE VARCHAR;
ALTER TABLE raw_spans ALTER events TYPE VARCHAR;
ALTER TABLE raw_spans ALTER links TYPE VARCHAR;
