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
-- The texts' hashes come from the narrow pass (halo_h_spans.claim_input_key, claim_output_key): the
-- window's texts are read here once more only to take each distinct text from one span holding it,
-- and a fact is followed through its trace only when some model output states it.
CREATE OR REPLACE TEMP MACRO halo_h_fact_tokens(text) AS
    list_distinct(list_concat(
        list_filter(
            list_transform(regexp_extract_all(coalesce(text, ''), '\b\d[\d,]*(?:\.\d+)?\b'),
                           lambda figure: regexp_replace(rtrim(replace(figure, ',', ''), '.'), '\.0+$', '')),
            lambda figure: length(replace(figure, '.', '')) >= 2),
        list_transform(regexp_extract_all(coalesce(text, ''), '"([^"\n]{3,60})"[ \t]*(?:[^: \t]|$)', 1),
                       lambda phrase: lower(trim(phrase)))));

CREATE OR REPLACE TEMP TABLE halo_h_claims AS
-- Traces are grouped and matched by a 64-bit hash of their id (as spans are by span_key): far
-- cheaper than by the id's string. A span without a trace id is in no checked trace.
-- (What a trace counts is in halo_h_traces.)
WITH checked_traces AS (
    SELECT hash(trace_id) AS trace_key
    FROM halo_h_traces
    WHERE trace_id IS NOT NULL AND (model_spans >= 2 OR tool_calls >= 1)
),
-- Each span's texts by their hash.
texts AS MATERIALIZED (
    SELECT span_key, hash(trace_id) AS trace_key, start_ns, span_type, claim_input_key AS input_key,
           claim_output_key AS output_key
    FROM halo_h_spans
    WHERE (claim_input_key IS NOT NULL OR claim_output_key IS NOT NULL)
      AND hash(trace_id) IN (SELECT trace_key FROM checked_traces)
),
-- One span holding each distinct text (a tool result, a prompt or a whole context repeats across
-- calls and traces: the same file read, the same instructions), and whether it is that span's input.
holders AS (
    SELECT text_key, arg_min({'span_key': span_key, 'is_input': is_input}, (span_key, NOT is_input)) AS holder
    FROM (SELECT input_key AS text_key, span_key, TRUE AS is_input FROM texts WHERE input_key IS NOT NULL
          UNION ALL
          SELECT output_key AS text_key, span_key, FALSE AS is_input FROM texts WHERE output_key IS NOT NULL)
    GROUP BY text_key
),
held_texts AS (
    SELECT holders.text_key,
           CASE WHEN holders.holder.is_input THEN halo_h_claim_input(source_spans.input_text)
                ELSE halo_h_claim_output(source_spans.span_type, source_spans.tool_result, source_spans.output_text)
           END AS text
    FROM query_table($source_table) AS source_spans
    JOIN holders ON holders.holder.span_key = hash(source_spans.trace_id, source_spans.span_id)
    WHERE source_spans.agent_uuid = $agent_uuid
),
-- The facts of each distinct text, extracted once: the regular expressions are most of this
-- statement's cost, and are run only on the texts holding a digit or a double quote (no other can
-- hold a fact: halo_h_may_state_fact). One row per (text, fact): a text stating none has no row. (A
-- text is taken once even if two stored rows share a span's ids.)
text_facts AS MATERIALIZED (
    SELECT text_key, unnest(tokens) AS token
    FROM (
        SELECT text_key, halo_h_fact_tokens(any_value(text)) AS tokens
        FROM held_texts
        WHERE hash(text) = text_key AND halo_h_may_state_fact(text)
        GROUP BY text_key
    )
),
-- origin 2: a model output (states); 1: a tool result (grounds); 0: an input (grounds what follows).
stated AS MATERIALIZED (
    SELECT span_key, trace_key, start_ns, 2 AS origin, text_facts.token
    FROM texts
    JOIN text_facts ON text_facts.text_key = texts.output_key
    WHERE span_type = 'llm'
),
-- Only facts some model output states can be stated first: the grounding texts are joined with those.
stated_facts AS (
    SELECT text_key, token
    FROM text_facts
    WHERE token IN (SELECT token FROM stated)
),
appearances AS (
    SELECT * FROM stated
    UNION ALL
    SELECT span_key, trace_key, start_ns, 0 AS origin, stated_facts.token
    FROM texts
    JOIN stated_facts ON stated_facts.text_key = texts.input_key
    UNION ALL
    SELECT span_key, trace_key, start_ns, 1 AS origin, stated_facts.token
    FROM texts
    JOIN stated_facts ON stated_facts.text_key = texts.output_key
    WHERE span_type <> 'llm'
),
first_appearances AS (
    SELECT trace_key, token, arg_min({'span_key': span_key, 'origin': origin}, (start_ns, origin)) AS first
    FROM appearances
    GROUP BY trace_key, token
),
claims AS (
    SELECT first.span_key AS span_key, list(token ORDER BY token) AS facts
    FROM first_appearances
    WHERE first.origin = 2
    GROUP BY first.span_key
)
SELECT claims.span_key, spans.trace_id, claims.facts
FROM claims
JOIN halo_h_spans AS spans USING (span_key);
