-- Shared set-up for the detectors (files starting with "_" are not detectors).
-- Reads the window's spans of one agent ONCE into narrow TEMP tables that every detector reads,
-- so the cost of scanning a Parquet snapshot (and of its text columns) is paid a single time.
-- Parameters: $source_table (a table or view with the spans columns), $agent_uuid.
-- Statements are separated by a semicolon at the end of a line.

-- The thing a span is about: the tool for tool calls, the model for model calls, else its name.
CREATE OR REPLACE TEMP MACRO halo_h_subject(span_type, tool_name, model, name) AS
    CASE
        WHEN span_type = 'tool' THEN coalesce(nullif(trim(tool_name), ''), name)
        WHEN span_type IN ('llm', 'embedding') THEN coalesce(nullif(trim(model), ''), name)
        ELSE name
    END;

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
-- parent is not in the window), its times, and for model calls its name (the call site). The
-- parent side of the join reads only a few columns, so the wide rows are never put in a hash table.
CREATE OR REPLACE TEMP TABLE halo_h_spans AS
WITH source_spans AS NOT MATERIALIZED (
    SELECT * FROM query_table($source_table) WHERE agent_uuid = $agent_uuid
),
parents AS (
    -- Joined on a 64-bit hash of (trace id, span id): much cheaper than joining two strings, and a
    -- collision among a window's spans is vanishingly unlikely (about n^2 / 2^65).
    SELECT hash(trace_id, span_id) AS span_key, name, start_ns, end_ns FROM source_spans
),
texts AS (
    -- Each long text is cut or trimmed once, for the span types that use it.
    SELECT
        * EXCLUDE (tool_arguments, tool_result, output_text),
        CASE WHEN span_type = 'tool' THEN nullif(trim(tool_arguments), '') END AS arguments_text,
        CASE WHEN span_type = 'tool' THEN left(ltrim(tool_result), 2000) END   AS result_text,
        CASE WHEN span_type = 'llm' THEN nullif(trim(output_text), '') END     AS output_trimmed,
        output_text IS NOT NULL AND trim(output_text) = ''                     AS output_blank
    FROM source_spans
),
spans AS (
    SELECT
        trace_id,
        span_id,
        nullif(parent_span_id, '')                                           AS parent_span_id,
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
        status_code,
        nullif(trim(status_message), '')                                     AS status_message,
        nullif(trim(error_type), '')                                         AS error_type,
        CASE WHEN status_code = 'error'
             THEN coalesce(nullif(trim(error_message), ''), nullif(trim(status_message), ''), '') END AS error_text,
        nullif(trim(model), '')                                              AS model,
        input_tokens,
        output_tokens,
        coalesce(counts_usage, TRUE)                                         AS counts_usage,
        CAST(cost_usd AS DOUBLE)                                             AS cost_usd,
        cost_source,
        nullif(trim(tool_name), '')                                          AS tool_name,
        len(declared_tools)                                                  AS declared_count,
        lower(finish_reason)                                                 AS finish_reason,
        halo_h_subject(span_type, tool_name, model, name)                    AS subject,
        -- Tool arguments, compared by hash: the same call made again has the same hash.
        CASE WHEN arguments_text IS NOT NULL
             THEN hash(CASE WHEN json_valid(arguments_text) THEN CAST(json(arguments_text) AS VARCHAR)
                            ELSE arguments_text END) END                     AS arguments_hash,
        left(arguments_text, 120)                                            AS arguments_head,
        -- A tool result that reports failure as data (the span status says nothing).
        span_type = 'tool' AND status_code <> 'error' AND result_text <> '' AND (
            regexp_matches(result_text,
                           '^(?i)((error|exception|fatal)\b\s*[:!\-\]]|failed to\b|failure:|an error occurred|command failed)')
            OR contains(result_text, 'Traceback (most recent call last)')
            OR regexp_matches(result_text,
                              '(?i)(exit(ed)?( with)?( status| code)?|return ?code|exit_?code|returncode)\W{0,3}(-?[1-9][0-9]*)\b')
            OR CASE WHEN starts_with(result_text, '{') AND json_valid(result_text) THEN (
                    coalesce(json_extract_string(result_text, '$.error'), 'false') NOT IN ('false', '', '{}', '[]')
                 OR json_extract_string(result_text, '$.isError') = 'true'
                 OR lower(coalesce(json_extract_string(result_text, '$.status'), '')) IN ('error', 'failed', 'failure')
                 OR json_extract_string(result_text, '$.success') = 'false'
                 OR coalesce(TRY_CAST(coalesce(json_extract_string(result_text, '$.exit_code'),
                                               json_extract_string(result_text, '$.exitCode'),
                                               json_extract_string(result_text, '$.returncode'),
                                               json_extract_string(result_text, '$.return_code')) AS BIGINT), 0) <> 0)
               ELSE FALSE END
        )                                                                    AS result_reports_failure,
        result_text <> ''                                                    AS has_result,
        left(result_text, 300)                                               AS result_head_raw,
        -- Model output, compared by hash; only its length and head are kept.
        CASE WHEN span_type = 'llm' THEN coalesce(length(output_trimmed), 0) END AS output_chars,
        span_type = 'llm' AND output_blank                                   AS output_blank,
        hash(output_trimmed)                                                 AS output_hash_raw,
        left(output_trimmed, 80)                                             AS output_head,
        span_type = 'llm' AND (
            regexp_matches(coalesce(finish_reason, ''), '(?i)tool|function')
            OR regexp_matches(coalesce(output_trimmed, ''), 'tool_call|function_call|tool_use')
        )                                                                    AS requested_tools,
        span_type = 'llm' AND length(output_trimmed) < 400 AND regexp_matches(output_trimmed,
            '^(?i)(i''m sorry|i am sorry|sorry|i apologi[sz]e|unfortunately)?[, ]*(but )?(i can''t|i cannot|i can not|i''m not able to|i am not able to|i''m unable to|i am unable to|i won''t|i will not)\s+(help|assist|comply|provide|fulfil|support|do that|answer)'
        )                                                                    AS text_refusal
    FROM texts
)
SELECT
    spans.* EXCLUDE (output_hash_raw, result_head_raw),
    CASE WHEN spans.output_chars > 0 THEN spans.output_hash_raw END   AS output_hash,
    -- The head of a tool result is kept only where it reports a failure (it becomes the message).
    CASE WHEN spans.status_code = 'error' OR spans.result_reports_failure
         THEN spans.result_head_raw END                               AS result_head,
    parents.span_key IS NULL                                    AS is_top,
    spans.parent_span_id IS NOT NULL AND parents.span_key IS NULL AS parent_missing,
    CASE WHEN spans.span_type = 'llm' THEN parents.name END     AS parent_name,
    parents.start_ns                                            AS parent_start_ns,
    parents.end_ns                                              AS parent_end_ns
FROM spans
LEFT JOIN parents ON parents.span_key = spans.parent_key;

-- The tools offered to the model in each trace (declared_tools of its model calls), names
-- normalized without case and punctuation: what unknown_tool compares tool calls with.
CREATE OR REPLACE TEMP TABLE halo_h_declared AS
SELECT DISTINCT trace_id, regexp_replace(lower(unnest(declared_tools)), '[^a-z0-9]', '', 'g') AS tool
FROM (
    SELECT trace_id, any_value(declared_tools) AS declared_tools
    FROM query_table($source_table)
    WHERE agent_uuid = $agent_uuid AND len(declared_tools) > 0
    GROUP BY trace_id, hash(declared_tools)
);

-- One row per trace: its extent, step counts, priced cost and whether it failed (a top span failed).
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
    sum(cost_usd) FILTER (WHERE counts_usage)                                AS cost_usd,
    count(*) FILTER (WHERE counts_usage AND cost_usd IS NOT NULL)            AS priced_spans,
    count(*) FILTER (WHERE counts_usage AND cost_source = 'unpriced')        AS unpriced_spans,
    coalesce(bool_or(is_top AND status_code = 'error'), FALSE)               AS failed
FROM halo_h_spans
GROUP BY trace_id;

-- Every failure: spans with status error, and tool results that report failure as data.
CREATE OR REPLACE TEMP TABLE halo_h_failing AS
SELECT
    trace_id, span_id, span_key, parent_key, name, span_type, subject, tool_name, is_top,
    start_ns, end_ns, start_time, end_time, duration_ms, error_type,
    CASE WHEN counts_usage THEN cost_usd END                                    AS cost_usd,
    CASE WHEN status_code = 'error' THEN 'status' ELSE 'result' END             AS source,
    CASE WHEN status_code = 'error' THEN error_text
         ELSE split_part(result_head, chr(10), 1) END                          AS message,
    halo_h_failure_kind(error_type,
        CASE WHEN status_code = 'error' THEN error_text ELSE result_head END,
        status_message)                                                         AS kind,
    CASE WHEN starts_with(masked, coalesce(error_type, chr(0))) THEN masked
         ELSE concat_ws(': ', error_type, nullif(masked, '')) END             AS signature
FROM (
    SELECT *, halo_h_mask(CASE WHEN status_code = 'error' THEN error_text
                               ELSE split_part(result_head, chr(10), 1) END) AS masked
    FROM halo_h_spans
    WHERE status_code = 'error' OR result_reports_failure
);

-- (failing ancestor, failing descendant) pairs where the ancestor's error repeats the descendant's:
-- same error type or signature, a message that quotes it, or no error detail of its own.
CREATE OR REPLACE TEMP TABLE halo_h_error_pairs AS
WITH RECURSIVE up(cause_key, ancestor_key, depth) AS (
    SELECT span_key, parent_key, 1
    FROM halo_h_failing
    WHERE source = 'status' AND parent_key IS NOT NULL
    UNION ALL
    SELECT up.cause_key, spans.parent_key, up.depth + 1
    FROM up
    JOIN halo_h_spans AS spans ON spans.span_key = up.ancestor_key
    WHERE spans.parent_key IS NOT NULL AND up.depth < 100
)
SELECT DISTINCT
    ancestor.trace_id,
    ancestor.span_id AS ancestor_span_id,
    cause.span_id    AS cause_span_id
FROM up
JOIN halo_h_failing AS ancestor ON ancestor.span_key = up.ancestor_key AND ancestor.source = 'status'
JOIN halo_h_failing AS cause ON cause.span_key = up.cause_key AND cause.trace_id = ancestor.trace_id
WHERE (ancestor.error_type IS NULL AND ancestor.message = '')
   OR lower(ancestor.error_type) = lower(cause.error_type)
   OR ancestor.signature = cause.signature
   OR (cause.error_type IS NOT NULL AND contains(ancestor.message, cause.error_type))
   OR (length(cause.message) >= 8 AND contains(ancestor.message, left(cause.message, 100)));

-- Each failure as reported: propagated failures point at their root causes and are not reported
-- again; a root cause "fails its trace" when it is the failing top span or a failing top span
-- only propagates it.
CREATE OR REPLACE TEMP TABLE halo_h_failures AS
WITH propagated AS (
    SELECT DISTINCT trace_id, ancestor_span_id AS span_id FROM halo_h_error_pairs
),
root_links AS (
    SELECT pairs.trace_id, pairs.ancestor_span_id, pairs.cause_span_id
    FROM halo_h_error_pairs AS pairs
    ANTI JOIN propagated
           ON propagated.trace_id = pairs.trace_id AND propagated.span_id = pairs.cause_span_id
),
links_per_cause AS (
    SELECT
        links.trace_id,
        links.cause_span_id                                      AS span_id,
        list(DISTINCT ancestor.name ORDER BY ancestor.name)      AS propagated_to,
        bool_or(ancestor.is_top)                                 AS fails_trace
    FROM root_links AS links
    JOIN halo_h_failing AS ancestor
      ON ancestor.trace_id = links.trace_id AND ancestor.span_id = links.ancestor_span_id
    GROUP BY ALL
)
SELECT
    failing.*,
    propagated.span_id IS NOT NULL                                         AS propagated,
    coalesce(links.propagated_to, [])                                      AS propagated_to,
    failing.source = 'status' AND propagated.span_id IS NULL
        AND (failing.is_top OR coalesce(links.fails_trace, FALSE))         AS fails_trace
FROM halo_h_failing AS failing
LEFT JOIN propagated
       ON propagated.trace_id = failing.trace_id AND propagated.span_id = failing.span_id
LEFT JOIN links_per_cause AS links
       ON links.trace_id = failing.trace_id AND links.span_id = failing.span_id;

DROP TABLE halo_h_failing;

-- Window-wide totals the detectors divide by.
CREATE OR REPLACE TEMP TABLE halo_h_totals AS
SELECT
    (SELECT count(*) FROM halo_h_traces)                      AS traces,
    (SELECT count(*) FROM halo_h_spans)                       AS spans,
    (SELECT count(*) FROM halo_h_spans WHERE span_type = 'llm' AND counts_usage) AS llm_calls,
    (SELECT count(*) FROM halo_h_spans WHERE span_type = 'tool') AS tool_calls;

-- Spans per subject, the denominators of failure rates.
CREATE OR REPLACE TEMP TABLE halo_h_subjects AS
SELECT
    span_type,
    subject,
    count(*)                                                     AS spans,
    count(DISTINCT trace_id)                                     AS traces,
    count(*) FILTER (WHERE status_code = 'error' OR result_reports_failure) AS failed_spans
FROM halo_h_spans
GROUP BY ALL;
