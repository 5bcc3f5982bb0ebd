-- Shared set-up (files starting with "_" are not detectors), run after _attribution.sql: the
-- specific facts a model call states first in its trace, what unsupported_claim reports.
-- Parameters: $source_table, $agent_uuid. Statements are separated by a semicolon at the end of a line.
--
-- A fact here is a token a later step can rely on and copy: a figure (a number of two digits or
-- more, thousands separators and a zero fraction dropped: 1,250.00 is 1250) or a double-quoted
-- name or phrase (3 to 60 characters, lower-cased; not a JSON key, which a colon follows).
-- Every text of the trace is read for them, in the order the steps ran: the inputs (the task, the
-- conversation a call was given), the tool results, the model outputs. A fact whose first
-- appearance in its trace is a model call's output came from no input, no tool result and no
-- earlier message: the model stated it on its own (recalled, computed or invented). Within one span
-- its input comes before its output, so a call repeating what it was given states nothing new.
-- A model output that is a JSON document (tool-call arguments) requests, it does not state.
-- Only traces with at least two model calls or a tool call are read: a lone answer to a question
-- has nothing to be checked against. Each text is cut to its first 8,000 characters, to bound the
-- cost of long contexts (a fact first given past the cut can be taken for a stated one).
CREATE OR REPLACE TEMP MACRO halo_h_fact_tokens(text) AS
    list_distinct(list_concat(
        list_filter(
            list_transform(regexp_extract_all(coalesce(text, ''), '\b\d[\d,]*(?:\.\d+)?\b'),
                           lambda figure: regexp_replace(rtrim(replace(figure, ',', ''), '.'), '\.0+$', '')),
            lambda figure: length(replace(figure, '.', '')) >= 2),
        list_transform(regexp_extract_all(coalesce(text, ''), '"([^"\n]{3,60})"[ \t]*(?:[^: \t]|$)', 1),
                       lambda phrase: lower(trim(phrase)))));

CREATE OR REPLACE TEMP TABLE halo_h_claims AS
WITH checked_traces AS (
    SELECT trace_id
    FROM halo_h_spans
    GROUP BY trace_id
    HAVING count(*) FILTER (WHERE span_type = 'llm') >= 2 OR count(*) FILTER (WHERE span_type = 'tool') >= 1
),
span_texts AS NOT MATERIALIZED (
    SELECT
        hash(trace_id, span_id)                                                  AS span_key,
        trace_id,
        start_ns,
        span_type,
        -- (a text within the cut is used as it is: left() copies every string it is given)
        CASE WHEN strlen(input_text) <= 8000 THEN input_text ELSE left(input_text, 8000) END AS input,
        CASE WHEN span_type = 'tool' THEN left(coalesce(nullif(trim(tool_result), ''), output_text), 8000)
             -- a model output that is a JSON document is a structured call (tool arguments), not prose
             WHEN span_type = 'llm' AND NOT regexp_matches(left(ltrim(output_text), 1), '[{\[]')
                 THEN CASE WHEN strlen(output_text) <= 8000 THEN output_text ELSE left(output_text, 8000) END
        END                                                                      AS output
    FROM query_table($source_table)
    WHERE agent_uuid = $agent_uuid AND trace_id IN (SELECT trace_id FROM checked_traces)
),
-- Each span's texts by a 64-bit hash (as span keys are): the strings are not copied into the CTE.
texts AS MATERIALIZED (
    SELECT span_key, trace_id, start_ns, span_type, hash(input) AS input_key, hash(output) AS output_key,
           input IS NOT NULL AS has_input, output IS NOT NULL AS has_output
    FROM span_texts
),
-- The facts of each distinct text, extracted once: a tool result, a prompt or a whole context
-- repeats across calls and traces (the same file read, the same instructions), and the regular
-- expressions are most of this statement's cost. One row per (text, fact): a text stating none
-- has no row, so the spans' texts are joined only where a fact is. (No filter on the facts here:
-- the optimizer pushes one below the DISTINCT, which extracted them from every text again.)
text_facts AS MATERIALIZED (
    SELECT text_key, unnest(tokens) AS token
    FROM (
        SELECT hash(text) AS text_key, halo_h_fact_tokens(text) AS tokens
        FROM (SELECT DISTINCT unnest([input, output]) AS text FROM span_texts)
        WHERE text IS NOT NULL
    )
),
-- origin 0: an input (grounds what follows); 1: a tool result (grounds); 2: a model output (states).
appearances AS (
    SELECT span_key, trace_id, start_ns, 0 AS origin, text_facts.token
    FROM texts
    JOIN text_facts ON text_facts.text_key = texts.input_key
    WHERE has_input
    UNION ALL
    SELECT span_key, trace_id, start_ns, CASE WHEN span_type = 'llm' THEN 2 ELSE 1 END AS origin,
           text_facts.token
    FROM texts
    JOIN text_facts ON text_facts.text_key = texts.output_key
    WHERE has_output
),
first_appearances AS (
    SELECT trace_id, token, arg_min({'span_key': span_key, 'origin': origin}, (start_ns, origin)) AS first
    FROM appearances
    GROUP BY trace_id, token
)
SELECT first.span_key AS span_key, trace_id, list(token ORDER BY token) AS facts
FROM first_appearances
WHERE first.origin = 2
GROUP BY first.span_key, trace_id;

-- The agent each model call that states facts of its own speaks for (the agent name it states for
-- itself, else its stored agent name): unsupported_claim blames that agent.
CREATE OR REPLACE TEMP TABLE halo_h_claiming_agents AS
SELECT span_key, declared_agent AS agent
FROM halo_h_spans
WHERE span_key IN (SELECT span_key FROM halo_h_claims);
