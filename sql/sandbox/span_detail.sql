-- One span's every column (its raw attributes and events included), by span id; a span id may
-- occur in several traces, so the caller sees each match and asks for a trace id when ambiguous.
SELECT * EXCLUDE (loaded_at, source_file, source_line)
FROM spans
WHERE span_id = $span_id AND ($trace_id IS NULL OR trace_id = $trace_id)
ORDER BY trace_id
LIMIT 10;
