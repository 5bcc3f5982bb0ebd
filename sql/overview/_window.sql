{#- The agent's stored spans in [$window_start, $window_end): every one, not a capped snapshot. -#}
agent_window AS (
    SELECT *, coalesce(end_ns, start_ns) AS last_ns
    FROM spans
    WHERE agent_uuid = $agent_uuid
      AND start_time >= $window_start
      AND start_time < $window_end
)
