-- Stored spans, optionally of one agent and within [$since, $until), in trace order.
SELECT * EXCLUDE (secret_free_under_rules)  -- the stored secret verdict is the store's own
FROM spans
WHERE ($agent_uuid IS NULL OR agent_uuid = $agent_uuid)
  AND ($since IS NULL OR start_time >= $since)
  AND ($until IS NULL OR start_time < $until)
ORDER BY start_time, trace_id, start_ns, span_id;
