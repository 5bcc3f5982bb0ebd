-- Where each chunk of a run's snapshot starts: the start of every $chunk_spans-th kept span (spans
-- sharing a start fall in one chunk, so every chunk's range of starts is its own), and one past the
-- last start, where the last chunk ends.
SELECT DISTINCT start_ns AS chunk_start
FROM halo_snapshot_keys
WHERE (position - 1) % $chunk_spans = 0
UNION
SELECT max(start_ns) + 1
FROM halo_snapshot_keys
ORDER BY chunk_start;
