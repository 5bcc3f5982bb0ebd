-- The agent of every span of derive_spans: its nearest agent ancestor-or-self, else the agent the span
-- names itself (gen_ai.agent.name on a model or tool call), else the trace's root agent (the highest,
-- then earliest, agent span), else the service. An agent span without a name is no agent here.
-- Walking down from the roots (spans whose parent is not stored) cannot loop; spans caught in a
-- parent cycle are never reached and fall back to the later rules.
CREATE OR REPLACE TEMP TABLE derived_agents AS
WITH RECURSIVE
nodes AS (
    SELECT
        spans.span_key,
        spans.trace_id,
        spans.span_id,
        spans.parent_span_id,
        spans.start_ns,
        spans.service_name,
        coalesce(known.declared_agent, fields.declared_agent) AS declared_agent,
        CASE WHEN spans.span_type = 'agent' THEN coalesce(known.declared_agent, fields.declared_agent,
                                                          known.agent_span_label, fields.agent_span_label)
        END AS agent_label
    FROM derive_spans AS spans
    LEFT JOIN normalize_fields AS fields USING (span_key)
    LEFT JOIN normalize_agent_fields AS known USING (trace_id, span_id)
),
roots AS (
    SELECT child.trace_id, child.span_id, child.agent_label
    FROM nodes AS child
    WHERE child.parent_span_id IS NULL
       OR NOT EXISTS (
           SELECT 1 FROM nodes AS parent
           WHERE parent.trace_id = child.trace_id AND parent.span_id = child.parent_span_id
       )
),
walk(trace_id, span_id, depth, nearest_agent) AS (
    SELECT trace_id, span_id, 0, agent_label FROM roots
    UNION ALL
    SELECT child.trace_id, child.span_id, walk.depth + 1, coalesce(child.agent_label, walk.nearest_agent)
    FROM walk
    JOIN nodes AS child ON child.trace_id = walk.trace_id AND child.parent_span_id = walk.span_id
),
root_agents AS (
    SELECT walk.trace_id, arg_min(nodes.agent_label, (walk.depth, nodes.start_ns, nodes.span_id)) AS agent
    FROM walk
    JOIN nodes USING (trace_id, span_id)
    WHERE nodes.agent_label IS NOT NULL
    GROUP BY walk.trace_id
)
SELECT
    nodes.span_key,
    nodes.service_name,
    coalesce(walk.nearest_agent, nodes.declared_agent, root_agents.agent, nodes.service_name) AS agent_name
FROM nodes
LEFT JOIN walk USING (trace_id, span_id)
LEFT JOIN root_agents USING (trace_id);
