-- How many spans and traces the agent has in [$window_start, $window_end) before the span limit.
SELECT count(*) AS spans, count(DISTINCT trace_id) AS traces
FROM spans
WHERE agent_uuid = $agent_uuid
  AND start_time >= $window_start
  AND start_time < $window_end;
