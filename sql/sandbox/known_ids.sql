-- Which of the given ids name a trace, or a span, of this snapshot: ids an LLM cites are checked here.
WITH wanted AS (SELECT DISTINCT unnest($ids::VARCHAR[]) AS id)
SELECT
    id,
    id IN (SELECT trace_id FROM spans) AS is_trace,
    id IN (SELECT span_id FROM spans) AS is_span
FROM wanted;
