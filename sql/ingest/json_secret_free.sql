-- The JSON columns' half of each span's secret verdict (halo_local/ingest/secret_check.py), in the order
-- of the chunk's rows: the same check as a snapshot's, over the same text the store will hold.
{% from "spans/_redaction.sql" import json_check -%}
SELECT NOT {{ json_check() }} AS json_secret_free
FROM halo_chunk_json
ORDER BY row_index
