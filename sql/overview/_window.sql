{#- The rows an overview counts, as the CTE `agent_window`: the agent's stored spans in
    [$window_start, $window_end) of `relation` (every one, not a capped snapshot) when `windowed`,
    else every row of `relation` (a run's snapshot, already the agent's window). -#}
agent_window AS (
    SELECT *, coalesce(end_ns, start_ns) AS last_ns
    FROM {{ relation }}
{%- if windowed %}
    WHERE agent_uuid = $agent_uuid
      AND start_time >= $window_start
      AND start_time < $window_end
{%- endif %}
)
