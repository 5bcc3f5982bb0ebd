-- bench/clickhouse.py: every span exported in [$chunk_start_us, $chunk_end_us), to copy the generated
-- spans into the local store a day at a time (as Arrow, normalized like any selection).
{% include "clickhouse/_span_columns.sql" %}
FROM {{ table }}
WHERE Timestamp >= fromUnixTimestamp64Micro({chunk_start_us:Int64}, 'UTC')
  AND Timestamp < fromUnixTimestamp64Micro({chunk_end_us:Int64}, 'UTC')
