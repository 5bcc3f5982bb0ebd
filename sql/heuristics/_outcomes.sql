-- Shared set-up for the detectors of failure without an error status, run after _prepare.sql:
-- what the texts of model outputs and tool results say (stall and replan markers, claims of being
-- unable to do something, a declined task) and how each trace ended. Failure often leaves no error
-- status: an agent that hands the user over, gives up, or stalls ends its run "OK".
-- Parameters: $source_table, $agent_uuid and the thresholds ($outcome_min_message_chars).
-- Statements are separated by a semicolon at the end of a line.

-- The phrasing read from texts. General wording, never one framework's exact string.
-- A stall or replan marker: "Stalled", "replanning", "no progress", "stuck", "going in circles".
CREATE OR REPLACE TEMP MACRO halo_h_stall_marker(text) AS
    regexp_extract(text,
        '(?i)\b(stall(ed|ing)?|re-?plan(ning|ned)?|no (further |real |more )?progress|not making (any )?progress|making no progress|(am|are|is|got|getting|seems?|remains?) stuck|going (a)?round in circles)\b');

-- A claim of being unable to do something, and the words after it (what it claims it cannot do).
CREATE OR REPLACE TEMP MACRO halo_h_incapability_claim(text) AS
    regexp_extract(text,
        '(?i)\b(i|we)\s*(cannot|can[''’]t|can not|am unable to|are unable to|[''’]m unable to|[''’]re unable to|am not able to|are not able to|do not have (the ability|access|the capability|a way) to|don[''’]t have (the ability|access|the capability|a way) to|do not have access to|don[''’]t have access to|have no (way|ability|access) to)\s+[^.!?\n]{0,60}');

-- What a claim says it cannot do, as the tools that would do it: web, files, code, images, data.
CREATE OR REPLACE TEMP MACRO halo_h_capability(claim) AS
    CASE
        WHEN regexp_matches(claim, '(?i)\b(brows|internet|web|online|url|website|page|search|look up|google)') THEN 'web'
        WHEN regexp_matches(claim, '(?i)\b(run|execute|code|script|command|terminal|shell)') THEN 'code'
        WHEN regexp_matches(claim, '(?i)\b(see|view|image|picture|photo|video|screenshot|watch|listen|audio)') THEN 'media'
        WHEN regexp_matches(claim, '(?i)\b(file|document|pdf|spreadsheet|attachment|open|read)') THEN 'files'
        WHEN regexp_matches(claim, '(?i)\b(database|query|sql|table|records?)\b') THEN 'data'
    END;

-- Whether a tool's name provides a capability (names normalized to lower-case letters and digits).
CREATE OR REPLACE TEMP MACRO halo_h_tool_provides(tool, capability) AS
    CASE capability
        WHEN 'web' THEN regexp_matches(tool, 'search|web|brows|fetch|http|url|google|bing|crawl|scrap|surf')
        WHEN 'code' THEN regexp_matches(tool, 'exec|code|python|shell|terminal|bash|repl|interpreter|command|run')
        WHEN 'media' THEN regexp_matches(tool, 'image|vision|ocr|screenshot|video|audio|transcri|see|view|caption')
        WHEN 'files' THEN regexp_matches(tool, 'file|read|open|pdf|doc|load|fs|document')
        WHEN 'data' THEN regexp_matches(tool, 'sql|query|database|db|table|lookup|get')
        ELSE FALSE
    END;

-- A final message that declines or abandons the task.
CREATE OR REPLACE TEMP MACRO halo_h_declines(text) AS
    regexp_extract(text,
        '(?i)\b((i|we)([''’]m| am| are|[''’]re)?\s*(still |currently )?(cannot|can[''’]t|can not|unable to|not able to|could not|couldn[''’]t|was unable to|were unable to)\s+(complete|finish|fulfil+|accomplish|proceed|continue|determine|find|locate|answer|solve|help|assist|do that|do this)|i (have to |must )?give up|giving up|(could|can)(not| not) be (determined|completed|answered|found)|unable to (complete|determine|answer) (the|this|your))\b[^.!?\n]{0,80}');

-- A tool that hands the run over: a transfer, an escalation, a hand-off to a human.
CREATE OR REPLACE TEMP MACRO halo_h_handoff_tool(tool) AS
    regexp_matches(lower(coalesce(tool, '')), 'transfer|escalat|hand_?off|handover|human|give_?up');

-- The texts, read once more from the window (only model outputs and tool results): the flags and
-- short quotes the detectors need, not the texts.
CREATE OR REPLACE TEMP TABLE halo_h_texts AS
WITH texts AS MATERIALIZED (
    SELECT
        hash(trace_id, span_id) AS span_key,
        span_type,
        left(CASE WHEN span_type = 'tool' THEN coalesce(nullif(trim(tool_result), ''), trim(output_text))
                  ELSE trim(output_text) END, 4000) AS text
    FROM query_table($source_table)
    WHERE agent_uuid = $agent_uuid AND span_type IN ('llm', 'tool', 'agent')
      -- Only texts holding one of the words `hinted` looks for below (in either column): the text
      -- is cut and copied for those only (most texts hold none: a copy of every text cost more
      -- than these searches). _window_guards.sql asks the same of the window.
      AND halo_h_may_hold_marker(output_text, tool_result)
),
-- The patterns run only on texts holding a word they need (plain substring searches are far
-- cheaper than a pattern that has no literal start): a negation for claims and declines, a stem of
-- the markers for stalls.
hinted AS (
    SELECT
        span_key,
        span_type,
        text,
        contains(text, 'tall') OR contains(text, 'plan') OR contains(text, 'rogress') OR contains(text, 'tuck')
            OR contains(text, 'ircles') OR contains(text, 'TALL') OR contains(text, 'PLAN')
            OR contains(text, 'ROGRESS')                                         AS may_stall,
        span_type = 'llm' AND (contains(text, 'not') OR contains(text, 'n''t') OR contains(text, 'n’t')
            OR contains(text, 'nable') OR contains(text, 'NABLE') OR contains(text, 'NOT') OR contains(text, 'ive up')
            OR contains(text, 'iving up'))                                       AS may_decline
    FROM texts
    WHERE text <> ''
),
marked AS (
    SELECT
        span_key,
        span_type,
        CASE WHEN may_stall THEN nullif(halo_h_stall_marker(text), '') END       AS stall_marker,
        CASE WHEN may_decline THEN nullif(halo_h_incapability_claim(text), '') END AS claim,
        CASE WHEN may_decline THEN nullif(halo_h_declines(text), '') END         AS declined
    FROM hinted
    WHERE may_stall OR may_decline
)
SELECT *, halo_h_capability(claim) AS capability
FROM marked
WHERE stall_marker IS NOT NULL OR claim IS NOT NULL OR declined IS NOT NULL;

-- How each trace ended: its top span failed; its last tool call handed it over (a transfer or an
-- escalation); its last substantive model message (at least $outcome_min_message_chars characters,
-- so control words such as "TERMINATE" are passed over) declined the task; or it was cut short (a
-- top span never ended, or its last model call hit the output limit). `ended_badly` is any of them.
CREATE OR REPLACE TEMP TABLE halo_h_outcomes AS
-- The last tool call, the last substantive model message, the last model call and the first
-- unfinished top span of each trace are in halo_h_traces (_prepare.sql); whether the final message
-- declined is looked up for that one span.
WITH ends AS (
    SELECT
        traces.trace_id,
        traces.failed,
        coalesce(halo_h_handoff_tool(traces.last_tool), FALSE)                        AS handed_off,
        CASE WHEN halo_h_handoff_tool(traces.last_tool) THEN traces.last_tool END      AS handoff_tool,
        CASE WHEN halo_h_handoff_tool(traces.last_tool) THEN traces.last_tool_span_id END AS handoff_span_id,
        texts.declined IS NOT NULL                                                     AS gave_up,
        texts.declined                                                                 AS declined,
        CASE WHEN texts.declined IS NOT NULL THEN traces.last_message.span_id END      AS gave_up_span_id,
        traces.unfinished_span_id IS NOT NULL
            OR coalesce(traces.last_call.finish_reason IN ('length', 'max_tokens', 'max_output_tokens'), FALSE) AS cut_short,
        coalesce(traces.unfinished_span_id,
                 CASE WHEN traces.last_call.finish_reason IN ('length', 'max_tokens', 'max_output_tokens')
                      THEN traces.last_call.span_id END)                               AS cut_short_span_id
    FROM halo_h_traces AS traces
    LEFT JOIN halo_h_texts AS texts ON texts.span_key = traces.last_message.span_key
    WHERE traces.trace_id IS NOT NULL
)
SELECT
    *,
    failed OR handed_off OR gave_up OR cut_short AS ended_badly,
    CASE WHEN failed THEN 'failed' WHEN handed_off THEN 'handed_off' WHEN gave_up THEN 'gave_up'
         WHEN cut_short THEN 'cut_short' ELSE 'ok' END AS outcome
FROM ends;

-- The agent whose final message declined the task (the name it states for itself, else the stored
-- one): gave_up blames it, not the run's top-level agent.
CREATE OR REPLACE TEMP TABLE halo_h_declining_agents AS
SELECT outcomes.trace_id, agents.declared_agent AS agent
FROM halo_h_outcomes AS outcomes
JOIN halo_h_spans AS agents ON agents.span_key = hash(outcomes.trace_id, outcomes.gave_up_span_id)
WHERE outcomes.gave_up_span_id IS NOT NULL;

-- Severity of a finding about traces by how they ended: high once it reaches at least
-- $outcome_min_traces traces and $failure_high_trace_share of the window, most of them
-- ($outcome_high_bad_share) ending badly; medium when it recurs or one of its traces ended badly.
CREATE OR REPLACE TEMP MACRO halo_h_outcome_severity(traces, bad_traces, total_traces, min_traces,
                                                     high_trace_share, high_bad_share) AS
    CASE
        WHEN traces >= min_traces AND traces >= high_trace_share * total_traces
             AND bad_traces >= high_bad_share * traces THEN 'high'
        WHEN traces >= 2 OR bad_traces >= 1 THEN 'medium'
        ELSE 'low'
    END;
