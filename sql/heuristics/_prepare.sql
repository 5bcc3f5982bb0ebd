-- Shared set-up for the detectors (files starting with "_" are not detectors).
-- Reads the window's spans of one agent ONCE into narrow TEMP tables that every detector reads,
-- so the cost of scanning a Parquet snapshot (and of its text columns) is paid a single time.
-- Then it groups those spans once per trace and once per subject, so that detectors, checks and
-- statistics read a few thousand grouped rows instead of grouping the spans again each.
-- Parameters: $source_table (a table or view with the spans columns), $agent_uuid, and the
-- thresholds (only $clock_skew_tolerance_ms is used here).
-- Statements are separated by a semicolon at the end of a line. Rendered by Jinja: declared_column
-- says whether the window has the declared agent as a column (spans/_declared_agent.sql).
{% from "spans/_declared_agent.sql" import declared_agent -%}

-- The thing a span is about: the tool for tool calls, the model for model calls, else its name.
-- BeeAI names its spans after an event plus a per-instance counter (agent.react.update-12,
-- tool.search.wikipedia.start-12): the counter is cut, so that every instance falls in one subject.
-- Other names are masked (halo_h_mask_name) so that step numbers, instance suffixes, ids and hashes
-- do not split one subject into many ("planner step 3", "planner step 4": "planner step <n>").
-- The stored name stays raw; model names are never cut or masked (their dates end in -<digits>).
-- The most common name of a list, ties going to the one listed first (callers order the list as
-- they order their examples): DuckDB's mode() picks among tied values by the order rows arrive in,
-- which parallel scans change from run to run.
CREATE OR REPLACE TEMP MACRO halo_h_most_common(names) AS (
    SELECT name FROM (SELECT unnest(names) AS name, unnest(range(len(names))) AS position)
    WHERE name IS NOT NULL
    GROUP BY name ORDER BY count(*) DESC, min(position) LIMIT 1);

CREATE OR REPLACE TEMP MACRO halo_h_mask_name(name) AS
    CASE WHEN regexp_matches(coalesce(name, ''), '[0-9]') THEN
        regexp_replace(regexp_replace(regexp_replace(name,
            '[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}', '<id>', 'g'),
            '\b[A-Fa-f]*[0-9][0-9A-Fa-f]{5,}\b|\b[0-9A-Fa-f]{5,}[0-9][0-9A-Fa-f]*\b', '<id>', 'g'),
            '(^|[\s_.:#/(\[-])[0-9]+\b', '\1<n>', 'g')
    ELSE name END;

CREATE OR REPLACE TEMP MACRO halo_h_subject(span_type, tool_name, model, name, scope_name) AS
    CASE
        WHEN span_type IN ('llm', 'embedding') AND nullif(trim(model), '') IS NOT NULL THEN trim(model)
        WHEN contains(lower(coalesce(scope_name, '')), 'beeai') THEN regexp_replace(
            CASE WHEN span_type = 'tool' THEN coalesce(nullif(trim(tool_name), ''), name) ELSE name END,
            '-[0-9]+$', '')
        WHEN span_type = 'tool' THEN coalesce(nullif(trim(tool_name), ''), halo_h_mask_name(name))
        ELSE halo_h_mask_name(name)
    END;

-- The texts unsupported_claim reads for facts (_claims.sql), each cut to its first 8,000
-- characters to bound the cost of long contexts: a span's input, and its output: a tool's result
-- (else its output), a model call's output unless it is a JSON document (a structured call, tool
-- arguments, not prose). A text within the cut is used as it is: left() copies every string it is given.
CREATE OR REPLACE TEMP MACRO halo_h_claim_input(input_text) AS
    CASE WHEN strlen(input_text) <= 8000 THEN input_text ELSE left(input_text, 8000) END;

CREATE OR REPLACE TEMP MACRO halo_h_claim_output(span_type, tool_result, output_text) AS
    CASE WHEN span_type = 'tool' THEN left(coalesce(nullif(trim(tool_result), ''), output_text), 8000)
         WHEN span_type = 'llm' AND NOT left(ltrim(output_text), 1) IN ('{', '[')
             THEN CASE WHEN strlen(output_text) <= 8000 THEN output_text ELSE left(output_text, 8000) END
    END;

-- Whether a text can hold a fact at all (_claims.sql's halo_h_fact_tokens): a figure needs a digit
-- (the pattern's \d is RE2's [0-9]) and a quoted phrase a double quote. Eleven substring searches, not
-- the pattern [0-9"]: a regular expression call costs ~8x as much over texts holding none.
CREATE OR REPLACE TEMP MACRO halo_h_may_state_fact(text) AS
    contains(text, '"') OR contains(text, '0') OR contains(text, '1') OR contains(text, '2')
    OR contains(text, '3') OR contains(text, '4') OR contains(text, '5') OR contains(text, '6')
    OR contains(text, '7') OR contains(text, '8') OR contains(text, '9');

-- An error message with its volatile parts masked (URLs, quoted values, paths, ids, numbers), so
-- that one bug hit with different inputs yields one signature.
CREATE OR REPLACE TEMP MACRO halo_h_mask(message) AS
    left(trim(regexp_replace(
        regexp_replace(
        regexp_replace(
        regexp_replace(
        regexp_replace(
        regexp_replace(
        regexp_replace(
        regexp_replace(
            left(coalesce(message, ''), 1000),
            '[A-Za-z][A-Za-z0-9+.-]*://[^\s''"<>]+', '<url>', 'g'),
            '''[^'']*''', '''<v>''', 'g'),
            '"[^"]*"', '"<v>"', 'g'),
            '(?:[A-Za-z]:)?(?:[/\\][^\s/\\''"(),:;\[\]]+){2,}[/\\]?', '<path>', 'g'),
            '[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}', '<id>', 'g'),
            '\b[A-Za-z_]*[0-9A-Fa-f]{8,}[A-Za-z0-9_]*\b', '<id>', 'g'),
            '\d+(?:\.\d+)?', '<n>', 'g'),
        '\s+', ' ', 'g')), 200);

-- Which kind of failure a failing span's text describes. Order matters: rate limits and timeouts
-- often also mention "error"; a missing tool is its own category.
CREATE OR REPLACE TEMP MACRO halo_h_failure_kind(error_type, message, status_message) AS
    CASE
        WHEN regexp_matches(coalesce(error_type, '') || ' ' || coalesce(status_message, ''),
                            '(^|[^0-9.])(429|529)([^0-9.]|$)')
          OR regexp_matches(coalesce(error_type, '') || ' ' || left(coalesce(message, ''), 1000),
                            '\brate[ _-]?limit|too many requests|overloaded|resource[ _-]?exhausted|quota exceeded|exceeded[^.]{0,40}quota|throttl',
                            'i')
            THEN 'rate_limit'
        WHEN regexp_matches(coalesce(error_type, '') || ' ' || left(coalesce(message, ''), 1000),
                            'time[ _-]?out(s|error|exception|\b)|timed out|deadline[ _-]?exceeded|(^|[^0-9.])(504|408)([^0-9.]|$)', 'i')
            THEN 'timeout'
        WHEN regexp_matches(coalesce(error_type, '') || ' ' || left(coalesce(message, ''), 1000),
                            '(unknown|invalid|unrecognized|unsupported|undefined) (tool|function)\b|\b(tool|function)\b[^.\n]{0,80}\b(not found|does not exist|doesn''t exist|is not available|not registered|is not a valid)|no (such )?(tool|function) (named|called)|(tool|function)notfound',
                            'i')
            THEN 'unknown_tool'
        ELSE 'error'
    END;

-- Whether a span's output or tool result holds one of the words the outcome markers look for
-- (_outcomes.sql: stalls, claims of incapability, declines): a text holding none has no marker.
CREATE OR REPLACE TEMP MACRO halo_h_may_hold_marker(output_text, tool_result) AS
    (contains(output_text, 'tall') OR contains(output_text, 'plan')
        OR contains(output_text, 'rogress') OR contains(output_text, 'tuck')
        OR contains(output_text, 'ircles') OR contains(output_text, 'TALL')
        OR contains(output_text, 'PLAN') OR contains(output_text, 'ROGRESS')
        OR contains(output_text, 'not') OR contains(output_text, 'n''t')
        OR contains(output_text, 'n’t') OR contains(output_text, 'nable')
        OR contains(output_text, 'NABLE') OR contains(output_text, 'NOT')
        OR contains(output_text, 'ive up') OR contains(output_text, 'iving up')
        OR contains(tool_result, 'tall') OR contains(tool_result, 'plan')
        OR contains(tool_result, 'rogress') OR contains(tool_result, 'tuck')
        OR contains(tool_result, 'ircles') OR contains(tool_result, 'TALL')
        OR contains(tool_result, 'PLAN') OR contains(tool_result, 'ROGRESS'));

-- Severity of a group of failures: high when it fails a real share of the window's traces or most
-- calls of its subject; medium when it recurs, fails a trace, or fails a noticeable share of calls.
CREATE OR REPLACE TEMP MACRO halo_h_failure_severity(failed_traces, total_traces, spans, rate,
                                                     high_trace_share, high_rate, min_spans, medium_rate) AS
    CASE
        WHEN failed_traces >= 1 AND failed_traces >= high_trace_share * total_traces THEN 'high'
        WHEN spans >= min_spans AND rate >= high_rate THEN 'high'
        WHEN failed_traces >= 1 OR spans >= 2 OR rate >= medium_rate THEN 'medium'
        ELSE 'low'
    END;

-- Severity of an output problem (truncation, refusal, empty output) of a model: by the share of
-- its calls affected, once it happened at least min_spans times.
CREATE OR REPLACE TEMP MACRO halo_h_output_severity(spans, share, min_spans, medium_share, high_share) AS
    CASE
        WHEN spans >= min_spans AND share >= high_share THEN 'high'
        WHEN spans >= min_spans AND share >= medium_share THEN 'medium'
        ELSE 'low'
    END;

-- The window: narrow columns plus flags derived from the long text columns (which are not copied),
-- and what the parent tells: whether the span is a top span of the window (a root, or a span whose
-- parent is not in the window), whether it sticks out of its parent's times (clock skew), and for
-- model calls the parent's name (the call site). The parent side of the join reads only a few
-- columns, so the wide rows are never put in a hash table.
-- Every text column costs a copy of a million strings here, so short categorical columns are kept
-- as flags where detectors only compare them (is_error, unpriced), and what only failures need
-- (status message, error type, tool name, result head) is kept for failing spans only.
-- Text functions run where their answer can matter: a cut (left) only on text long enough to be
-- cut, a pattern only on text that contains the letters it needs, and a finish reason is matched
-- against "tool" or "function" only for calls without output (the only ones empty_output asks about).
CREATE OR REPLACE TEMP TABLE halo_h_spans AS
WITH source_spans AS NOT MATERIALIZED (
    SELECT * FROM query_table($source_table) WHERE agent_uuid = $agent_uuid
),
parents AS (
    -- Joined on a 64-bit hash of (trace id, span id): much cheaper than joining two strings, and a
    -- collision among a window's spans is vanishingly unlikely (about n^2 / 2^65). Only spans that
    -- are some span's parent go in the hash table: a small table, fast to build and to probe.
    SELECT hash(trace_id, span_id) AS span_key, name, start_ns, end_ns
    FROM source_spans
    WHERE hash(trace_id, span_id) IN (
        SELECT hash(trace_id, parent_span_id) FROM source_spans WHERE nullif(parent_span_id, '') IS NOT NULL)
),
texts AS (
    -- Each long text is cut or trimmed once, for the span types that use it. The first 2000
    -- characters of a result are the result itself when it has at most 2000 bytes. The output is
    -- trimmed on every span (it is NULL on nearly all but model calls): DuckDB trims a column
    -- faster than a CASE around it, and the columns below keep it for model calls only.
    SELECT
        * EXCLUDE (tool_arguments, tool_result, output_text, input_text),
        halo_h_claim_input(input_text)                                        AS claim_input,
        halo_h_claim_output(span_type, tool_result, output_text)              AS claim_output,
        CASE WHEN span_type = 'tool' THEN nullif(trim(tool_arguments), '') END AS arguments_text,
        CASE WHEN span_type = 'tool' THEN
            CASE WHEN strlen(tool_result) <= 2000 THEN ltrim(tool_result) ELSE left(ltrim(tool_result), 2000) END
        END                                                                   AS result_text,
        -- The end of a long result: where a traceback names the exception that ended it.
        CASE WHEN span_type = 'tool' AND strlen(tool_result) > 2000 THEN right(rtrim(tool_result), 1500) END AS result_tail,
        nullif(trim(output_text), '')                                         AS output_trimmed,
        output_text IS NOT NULL AND trim(output_text) = ''                    AS output_blank
    FROM source_spans
),
flagged AS (
    SELECT
        *,
        status_code = 'error'                                                 AS is_error,
        lower(output_trimmed)                                                 AS output_lower,  -- for assumes_data
        -- A tool result that reports failure as data (the span status says nothing). The exit
        -- code pattern needs "exit" or "return" in some case, so an "x" or an "rn" in some case:
        -- plain substring searches rule most results out before it runs. It is split in two, each
        -- with a literal start, which the regex engine scans for much faster than an alternation.
        -- The anchored pattern can only match a result starting with e, f, a or c in some case.
        -- CASEs, not ANDs and ORs: DuckDB evaluates every operand of those in a projection, so
        -- each pattern would run on every span; a CASE stops at the first test that decides.
        -- (A span that is not a tool call with a result gets what the AND of the tests gave.)
        CASE WHEN span_type = 'tool' AND status_code <> 'error' AND result_text <> '' THEN
            CASE
                WHEN contains(result_text, 'Traceback (most recent call last)') THEN TRUE
                WHEN left(result_text, 1) IN ('e', 'E', 'f', 'F', 'a', 'A', 'c', 'C') AND regexp_matches(result_text,
                        '^(?i)((error|exception|fatal)\b\s*[:!\-\]]|failed to\b|failure:|an error occurred|command failed)')
                    THEN TRUE
                WHEN (contains(result_text, 'x') OR contains(result_text, 'X') OR contains(result_text, 'rn')
                      OR contains(result_text, 'rN') OR contains(result_text, 'Rn') OR contains(result_text, 'RN'))
                     AND (regexp_matches(result_text, '(?i)(exit(ed)?( with)?( status| code)?|exit_?code)\W{0,3}(-?[1-9][0-9]*)\b')
                          OR regexp_matches(result_text, '(?i)(return ?code|returncode)\W{0,3}(-?[1-9][0-9]*)\b'))
                    THEN TRUE
                WHEN starts_with(result_text, '{') AND json_valid(result_text) THEN (
                        coalesce(json_extract_string(result_text, '$.error'), 'false') NOT IN ('false', '', '{}', '[]')
                     OR json_extract_string(result_text, '$.isError') = 'true'
                     OR lower(coalesce(json_extract_string(result_text, '$.status'), '')) IN ('error', 'failed', 'failure')
                     OR json_extract_string(result_text, '$.success') = 'false'
                     OR coalesce(TRY_CAST(coalesce(json_extract_string(result_text, '$.exit_code'),
                                                   json_extract_string(result_text, '$.exitCode'),
                                                   json_extract_string(result_text, '$.returncode'),
                                                   json_extract_string(result_text, '$.return_code')) AS BIGINT), 0) <> 0)
                ELSE FALSE
            END
        ELSE span_type = 'tool' AND status_code <> 'error' AND result_text <> '' AND NULL
        END                                                                   AS result_reports_failure
    FROM texts
),
spans AS (
    SELECT
        trace_id,
        span_id,
        hash(trace_id, span_id)                                              AS span_key,
        CASE WHEN nullif(parent_span_id, '') IS NOT NULL
             THEN hash(trace_id, parent_span_id) END                         AS parent_key,
        name,
        span_type,
        start_ns,
        end_ns,
        start_time,
        end_time,
        duration_ms,
        is_error,                                                            -- status_code = 'error'
        -- What failing spans report (NULL for the others).
        CASE WHEN is_error OR result_reports_failure THEN nullif(trim(status_message), '') END AS status_message,
        CASE WHEN is_error OR result_reports_failure THEN nullif(trim(error_type), '') END     AS error_type,
        CASE WHEN is_error
             THEN coalesce(nullif(trim(error_message), ''), nullif(trim(status_message), ''), '') END AS error_text,
        CASE WHEN is_error OR result_reports_failure THEN nullif(trim(tool_name), '') END      AS tool_name,
        -- The head of a tool result is kept only for failing tools: where the result reports the
        -- failure it becomes the message; under an error status it often holds the real cause.
        CASE WHEN is_error OR result_reports_failure THEN left(result_text, 300) END AS result_head,
        -- ... and, to find the exception that ended it, the rest of the result (a long one's end).
        CASE WHEN is_error OR result_reports_failure THEN coalesce(result_tail, result_text) END AS result_rest,
        -- Whether a failing tool call was handed code to run (its arguments read as a program).
        -- (A CASE, not an AND: DuckDB evaluates every operand of an AND in a projection, so the
        -- pattern would run over every span's arguments; a CASE runs it on failing tools only. The
        -- flags below are gated the same way.)
        CASE WHEN (is_error OR result_reports_failure) AND span_type = 'tool' THEN regexp_matches(coalesce(arguments_text, ''),
            '(?m)^\s*(import |from \S+ import |def |class |print\(|#!|SELECT |\$ )|"(code|script|source|program)"\s*:')
             ELSE FALSE END                                                  AS arguments_code,
        nullif(trim(model), '')                                              AS model,
        input_tokens,
        output_tokens,
        coalesce(counts_usage, TRUE)                                         AS counts_usage,
        CAST(cost_usd AS DOUBLE)                                             AS cost_usd,
        cost_source = 'unpriced'                                             AS unpriced,  -- NULL: no cost source
        -- The tools offered to the model, by a hash of the list (halo_h_tool_lists has the names).
        CASE WHEN len(declared_tools) > 0 THEN hash(declared_tools) END     AS tools_key,
        lower(finish_reason)                                                 AS finish_reason,
        halo_h_subject(span_type, tool_name, model, name, scope_name)        AS subject,
        -- The agent the span declares, else its stored agent: who the callers, the failing agent
        -- spans and the model calls that assume data, repeat themselves, state facts or decline
        -- speak for (_attribution.sql, _outcomes.sql, _claims.sql). A run's snapshot has it as a
        -- column (declared_column): reading every span's attributes for it cost ~0.6 CPU-s at 1M.
{%- if declared_column %}
        declared_agent,
{%- else %}
        {{ declared_agent("attributes", "agent_name") | indent(8) }}           AS declared_agent,
{%- endif %}
        -- The texts unsupported_claim reads, by a 64-bit hash (NULL: no such text): _claims.sql
        -- reads each distinct text once, from one span holding it.
        CASE WHEN claim_input IS NOT NULL THEN hash(claim_input) END        AS claim_input_key,
        CASE WHEN claim_output IS NOT NULL THEN hash(claim_output) END      AS claim_output_key,
        -- Tool arguments, compared by hash: the same call made again has the same hash.
        CASE WHEN arguments_text IS NOT NULL
             THEN hash(CASE WHEN json_valid(arguments_text) THEN CAST(json(arguments_text) AS VARCHAR)
                            ELSE arguments_text END) END                     AS arguments_hash,
        CASE WHEN strlen(arguments_text) <= 120 THEN arguments_text
             ELSE left(arguments_text, 120) END                              AS arguments_head,
        -- A failure: the status says error, or the tool result reports one.
        is_error OR result_reports_failure                                   AS is_failure,
        result_text <> ''                                                    AS has_result,
        -- Model output, compared by hash; only its length and head are kept.
        CASE WHEN span_type = 'llm' THEN coalesce(length(output_trimmed), 0) END AS output_chars,
        span_type = 'llm' AND output_blank                                   AS output_blank,
        CASE WHEN span_type = 'llm' THEN hash(output_trimmed) END           AS output_hash_raw,
        -- Whether a model call says it works from data it made up or assumed instead of data it
        -- fetched (hypothetical, simulated, placeholder, "let's assume ..."): what assumed_data reports.
        -- Each phrase holds one of the words tested first, in lower case: the pattern runs only on
        -- outputs holding one (a plain search of the lower-cased text costs a tenth of the pattern).
        -- The text is lowered once, in `flagged`: DuckDB repeats a call written in each test of a CASE
        -- condition (nine lower() calls an output cost ~0.6 CPU-s at 1M spans whose texts differ).
        CASE WHEN span_type = 'llm' AND (contains(output_lower, 'hypothetical')
                   OR contains(output_lower, 'simulat') OR contains(output_lower, 'placeholder')
                   OR contains(output_lower, 'dummy') OR contains(output_lower, 'mock')
                   OR contains(output_lower, 'data') OR contains(output_lower, 'made')
                   OR contains(output_lower, 'fictional') OR contains(output_lower, 'assum'))
             THEN regexp_matches(output_trimmed,
            '(?i)\b(hypothetical|simulated? (data|dataset|values?|results?|responses?|output)|simulating|placeholder|dummy (data|values?)|mock(ed)? (data|values?|results?)|(sample|example|synthetic) (data|dataset)|made[- ]up|fictional|let''s assume|let us assume|assum(e|ing) (that )?(the|a|we|it|there)\b)')
             ELSE (span_type = 'llm' AND output_trimmed IS NULL) AND NULL  -- NULL without output text
        END                                                                  AS assumes_data,
        -- Whether a model call wrote code (a fenced block): what an executor after it runs.
        span_type = 'llm' AND contains(output_trimmed, '```')                AS writes_code,
        CASE WHEN span_type = 'llm' AND strlen(output_trimmed) <= 80 THEN output_trimmed
             WHEN span_type = 'llm' THEN left(output_trimmed, 80) END        AS output_head,
        -- Whether a call without output asked for a tool (its finish reason says so).
        CASE WHEN span_type = 'llm' AND output_trimmed IS NULL
             THEN regexp_matches(coalesce(finish_reason, ''), '(?i)tool|function') ELSE FALSE END AS requested_tools,
        span_type = 'llm' AND length(output_trimmed) < 400 AND regexp_matches(output_trimmed,
            '^(?i)(i''m sorry|i am sorry|sorry|i apologi[sz]e|unfortunately)?[, ]*(but )?(i can''t|i cannot|i can not|i''m not able to|i am not able to|i''m unable to|i am unable to|i won''t|i will not)\s+(help|assist|comply|provide|fulfil|support|do that|answer)'
        )                                                                    AS text_refusal
    FROM flagged
)
SELECT
    spans.* EXCLUDE (output_hash_raw),
    CASE WHEN spans.output_chars > 0 THEN spans.output_hash_raw END   AS output_hash,
    parents.span_key IS NULL                                    AS is_top,  -- with a parent_key: orphaned
    CASE WHEN spans.span_type = 'llm' THEN parents.name END     AS parent_name,
    -- What data_quality reports: a child sticking out of its parent by more than the tolerance,
    -- and a span ending before it starts.
    parents.start_ns IS NOT NULL
        AND (spans.start_ns < parents.start_ns - $clock_skew_tolerance_ms * 1e6
             OR (spans.end_ns IS NOT NULL AND parents.end_ns IS NOT NULL
                 AND spans.end_ns > parents.end_ns + $clock_skew_tolerance_ms * 1e6)) AS clock_skew,
    spans.end_ns < spans.start_ns                               AS negative_duration
FROM spans
LEFT JOIN parents ON parents.span_key = spans.parent_key;

-- The tools offered to the model (declared_tools of its calls), per distinct list: names
-- normalized without case and punctuation, what unknown_tool compares tool calls with. A list is
-- keyed by its hash, as in halo_h_spans.tools_key; one agent offers the same few lists each time,
-- so each list is read from one span that offers it (found by its key, not by hashing every list).
CREATE OR REPLACE TEMP TABLE halo_h_tool_lists AS
SELECT DISTINCT
    lists.tools_key,
    regexp_replace(lower(unnest(source_spans.declared_tools)), '[^a-z0-9]', '', 'g') AS tool
FROM (
    SELECT tools_key, min(span_key) AS span_key
    FROM halo_h_spans
    WHERE tools_key IS NOT NULL
    GROUP BY tools_key
) AS lists
JOIN (
    SELECT hash(trace_id, span_id) AS span_key, declared_tools
    FROM query_table($source_table)
    WHERE agent_uuid = $agent_uuid AND len(declared_tools) > 0
) AS source_spans USING (span_key);

-- The distinct finish reasons of the window's model calls (lower case): detectors match their
-- patterns against these few values instead of against every call.
CREATE OR REPLACE TEMP TABLE halo_h_finish_reasons AS
SELECT DISTINCT finish_reason
FROM halo_h_spans
WHERE span_type = 'llm' AND finish_reason IS NOT NULL;

-- One row per trace: its extent, step counts, usage, priced cost, whether it failed (a top span
-- failed), and what data_quality asks of its top spans; and, found in this one grouping instead of a
-- grouping of the spans by trace each: its first top span (the example span of long_run and
-- excessive_steps), its last tool call, last substantive model message and last model call, and its
-- first unfinished top span (how it ended: _outcomes.sql; arg_max skips rows whose value is NULL, so a
-- last row is taken whole, as a STRUCT), the model calls whose input can grow (context growth,
-- cost.sql) and those unsupported_claim needs (_claims.sql).
-- First and last are by (start_ns, span_id), made once per span as one sort key (a BLOB compared
-- byte by byte, in the pair's order): each arg_min/arg_max over the pair as a STRUCT made its own
-- key from it, six times a span.
CREATE OR REPLACE TEMP TABLE halo_h_traces AS
SELECT
    trace_id,
    min(start_ns)                                                            AS start_ns,
    max(coalesce(end_ns, start_ns))                                          AS end_ns,
    (max(coalesce(end_ns, start_ns)) - min(start_ns)) / 1e6                  AS duration_ms,
    min(start_time)                                                          AS first_seen,
    max(coalesce(end_time, start_time))                                      AS last_seen,
    count(*)                                                                 AS spans,
    count(*) FILTER (WHERE span_type = 'llm' AND counts_usage)               AS llm_calls,
    count(*) FILTER (WHERE span_type = 'tool')                               AS tool_calls,
    -- model outputs long enough for loop.sql to compare (whether a loop can be, _applicable.sql)
    count(*) FILTER (WHERE span_type = 'llm' AND output_hash IS NOT NULL
                       AND output_chars >= $loop_output_min_chars)           AS comparable_outputs,
    sum(input_tokens) FILTER (WHERE counts_usage)                            AS input_tokens,
    sum(output_tokens) FILTER (WHERE counts_usage)                           AS output_tokens,
    sum(cost_usd) FILTER (WHERE counts_usage)                                AS cost_usd,
    count(*) FILTER (WHERE counts_usage AND cost_usd IS NOT NULL)            AS priced_spans,
    count(*) FILTER (WHERE counts_usage AND unpriced)                        AS unpriced_spans,
    coalesce(bool_or(is_top AND is_error), FALSE)                            AS failed,
    count(*) FILTER (WHERE is_top)                                           AS top_spans,
    coalesce(bool_or(is_top AND parent_key IS NOT NULL), FALSE)              AS orphan_top,
    arg_min(span_id, order_key) FILTER (WHERE is_top)                        AS top_span_id,
    arg_min(span_id, order_key) FILTER (WHERE is_top AND end_ns IS NULL) AS unfinished_span_id,
    arg_max(subject, order_key) FILTER (WHERE span_type = 'tool')            AS last_tool,
    arg_max(span_id, order_key) FILTER (WHERE span_type = 'tool')            AS last_tool_span_id,
    arg_max({'span_key': span_key, 'span_id': span_id}, order_key)
        FILTER (WHERE span_type = 'llm' AND output_chars >= $outcome_min_message_chars) AS last_message,
    arg_max({'finish_reason': finish_reason, 'span_id': span_id}, order_key)
        FILTER (WHERE span_type = 'llm')                                     AS last_call,
    count(*) FILTER (WHERE span_type = 'llm')                                AS model_spans,
    count(*) FILTER (WHERE span_type = 'llm' AND counts_usage AND input_tokens IS NOT NULL) AS input_turns,
    max(input_tokens) FILTER (WHERE span_type = 'llm' AND counts_usage)      AS max_input_tokens,
    min(input_tokens) FILTER (WHERE span_type = 'llm' AND counts_usage)      AS min_input_tokens
FROM (
    SELECT *, create_sort_key(start_ns, 'ASC NULLS LAST', span_id, 'ASC NULLS LAST') AS order_key
    FROM halo_h_spans
)
GROUP BY trace_id;

-- One row per subject (span type and subject): its spans and failures (the denominators of
-- failure rates), its model calls with usage (what output problems are a share of), and its
-- latency: the percentiles of its finished spans with a duration >= 0 (the baselines of latency),
-- plus what the latency statistics need (every finished span, negative durations included; when
-- a subject has some, _stats_latency computes its percentiles from the spans).
CREATE OR REPLACE TEMP TABLE halo_h_subjects AS
SELECT
    span_type,
    subject,
    count(*)                                                                 AS spans,
    count(*) FILTER (WHERE is_failure)                                       AS failed_spans,
    count(*) FILTER (WHERE counts_usage)                                     AS usage_spans,
    count(*) FILTER (WHERE duration_ms >= 0)                                 AS timed_calls,
    quantile_cont(duration_ms, [0.5, 0.95, 0.99]) FILTER (WHERE duration_ms >= 0) AS timed_quantiles,
    mad(duration_ms) FILTER (WHERE duration_ms >= 0)                         AS timed_mad_ms,
    avg(duration_ms) FILTER (WHERE duration_ms >= 0)                         AS timed_mean_ms,
    sum(duration_ms) FILTER (WHERE duration_ms >= 0)                         AS timed_total_ms,
    min(start_time) FILTER (WHERE duration_ms >= 0)                          AS timed_first_seen,
    max(coalesce(end_time, start_time)) FILTER (WHERE duration_ms >= 0)      AS timed_last_seen,
    count(duration_ms)                                                       AS finished_calls,
    count(*) FILTER (WHERE duration_ms < 0)                                  AS negative_calls,
    max(duration_ms)                                                         AS max_ms,
    sum(duration_ms)                                                         AS total_ms
FROM halo_h_spans
GROUP BY ALL;

-- Window-wide totals the detectors divide by, and the counters of what each check examines.
CREATE OR REPLACE TEMP TABLE halo_h_totals AS
SELECT
    (SELECT count(*) FROM halo_h_traces)                                     AS traces,
    (SELECT count(trace_id) FROM halo_h_traces)                              AS distinct_traces, -- with an id
    count(*)                                                                 AS spans,
    count(*) FILTER (WHERE span_type = 'llm' AND counts_usage)               AS llm_calls,
    count(*) FILTER (WHERE span_type = 'tool')                               AS tool_calls,
    count(*) FILTER (WHERE duration_ms IS NOT NULL)                          AS finished_spans,
    count(*) FILTER (WHERE span_type = 'tool' AND has_result)                AS tool_results,
    count(*) FILTER (WHERE span_type = 'llm' AND counts_usage
                       AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL)) AS usage_spans,
    count(*) FILTER (WHERE span_type = 'llm' AND finish_reason IS NOT NULL)  AS llm_with_finish_reason,
    count(*) FILTER (WHERE span_type = 'llm' AND output_chars > 0)           AS llm_with_output,
    count(*) FILTER (WHERE span_type = 'llm'
                       AND (finish_reason IS NOT NULL OR output_chars > 0))  AS llm_with_finish_or_output,
    count(*) FILTER (WHERE arguments_hash IS NOT NULL OR output_hash IS NOT NULL) AS loop_candidates,
    count(*) FILTER (WHERE tools_key IS NOT NULL)                            AS declared_tool_spans,
    count(*) FILTER (WHERE counts_usage AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL
                                             OR unpriced IS NOT NULL))       AS calls_with_usage,
    -- spans with a problem data_quality reports (an orphan: a top span with an absent parent,
    -- whatever its trace): whether it can find anything (_applicable.sql)
    count(*) FILTER (WHERE (is_top AND parent_key IS NOT NULL) OR end_ns IS NULL OR (counts_usage AND unpriced)
                        OR clock_skew OR negative_duration
                        OR (counts_usage AND model IS NOT NULL AND span_type NOT IN ('llm', 'embedding')
                            AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL))) AS data_problem_spans
FROM halo_h_spans;
