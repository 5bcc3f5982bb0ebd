-- Spans that ended before $cutoff (a span still running at the cutoff is kept).
SELECT count(*) AS spans, count(DISTINCT trace_id) AS traces
FROM spans
WHERE coalesce(end_time, start_time) < $cutoff;
