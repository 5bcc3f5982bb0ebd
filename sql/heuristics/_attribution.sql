-- Shared set-up (files starting with "_" are not detectors), run after _shape.sql: who must change
-- for each root-cause failure (halo_h_failures, not propagated), and why it failed.
-- Parameters: none (the agent each span declares is halo_h_spans.declared_agent, read with the
-- window in _prepare.sql).
-- Statements are separated by a semicolon at the end of a line.
--
-- reason: what the failure says, masked into a stable signature. A status message that only says
--   a command failed (an exit code, "Error running tool") gives way to the exception that ended the
--   result (the last `SomethingError: ...` line), so 90 failing runs of an executor are told apart.
-- blame: who must change, from the failure's shape, first match wins:
--   infrastructure  the environment failed: rate limits, timeouts, 5xx, network and DNS errors;
--   code            an agent handed code to an executor (a fenced block in the model call that
--                   issued the call, or code in the arguments) and it raised: the agent that wrote it;
--   crashed         a traceback from inside a tool that was handed no code: the tool;
--   refused         the tool rejected the caller's arguments (validation phrasing, not found, not
--                   enough, invalid, a 4xx status): the agent that issued the call;
--   tool            any other tool failure: the tool;
--   model           a model call failed: the model (provider or configuration);
--   agent           an agent or step span failed on its own: that agent.
-- caller: the model call that issued a tool call: the latest model call of the same trace that
--   started before it. Its agent is the agent name the span states for itself (gen_ai.agent.name,
--   agent.name, agent_name, inference.agent_name), else the stored agent name.
-- The exception that ended a result: its last line naming one (`KeyError: 'x'`), else the last
-- `SomethingError: ...` inside a line (a wrapper's "An error occurred ... Error: [Errno 2] ...").
CREATE OR REPLACE TEMP MACRO halo_h_exception_line(text) AS
    coalesce(
        nullif(trim(list_last(regexp_extract_all(coalesce(text, ''),
            '(?m)^[ \t]*((?:[A-Za-z_][A-Za-z0-9_.]*)?(?:Error|Exception|Interrupt)\b(?::[^\n]*)?)[ \t]*$', 1))), ''),
        nullif(trim(list_last(regexp_extract_all(coalesce(text, ''),
            '\b((?:[A-Z][A-Za-z0-9_.]*)?(?:Error|Exception): [^\n]+)', 1))), ''));

CREATE OR REPLACE TEMP TABLE halo_h_attribution AS
WITH failing AS (
    SELECT
        trace_id, span_id, span_key, span_type, subject, start_ns, kind, source, error_type, message, signature,
        arguments_code, arguments_head,
        coalesce(halo_h_exception_line(result_rest),
                 -- no exception named: the result's last line that reads as an error (not plain
                 -- output), unless it is the status line itself
                 nullif(nullif(trim(list_last(list_filter(string_split(trim(coalesce(result_rest, '')), chr(10)),
                     lambda line: regexp_matches(line, '(?i)\b(error|fail|failed|failure|not found|unknown|denied|invalid|cannot|can''t|unable|time ?out|timed out|exception|refused|missing)\b')))), ''),
                        trim(message)))
                                                                             AS exception_line,
        concat_ws(chr(10), message, result_head, right(result_rest, 600))    AS evidence,
        hash(trace_id)                                                       AS trace_key
    FROM halo_h_failures
    WHERE NOT propagated
),
model_calls AS (
    -- Matched by a 64-bit hash of the trace id (as span keys are): the join sorts both sides by it,
    -- far cheaper than sorting by the id's string.
    SELECT hash(trace_id) AS trace_key, start_ns, span_key AS caller_key, span_id AS caller_span_id,
           writes_code AS caller_wrote_code, model AS caller_model
    FROM halo_h_spans
    WHERE span_type = 'llm'
      -- Only traces with a failure can issue one: the others are not sorted for the join below.
      AND trace_id IN (SELECT trace_id FROM halo_h_failures WHERE NOT propagated)
),
issued AS (
    SELECT failing.* EXCLUDE (trace_key), model_calls.caller_key, model_calls.caller_span_id,
           model_calls.caller_wrote_code, model_calls.caller_model
    FROM failing
    ASOF LEFT JOIN model_calls
      ON model_calls.trace_key = failing.trace_key AND model_calls.start_ns < failing.start_ns
),
classified AS MATERIALIZED (
    SELECT
        issued.*,
        CASE
            WHEN kind IN ('rate_limit', 'timeout')
              OR regexp_matches(evidence, '(?i)\b(HTTP|status)\W{0,3}5\d\d\b|\b5\d\d (Internal Server Error|Bad Gateway|Service Unavailable|Gateway Time-?out)|service unavailable|connection (refused|reset|aborted|error)|network (is )?unreachable|name or service not known|temporary failure in name resolution|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH')
                THEN 'infrastructure'
            WHEN span_type = 'tool' AND (coalesce(caller_wrote_code, FALSE) OR arguments_code)
              AND (exception_line IS NOT NULL OR regexp_matches(message, '(?i)exit|return ?code|traceback'))
                THEN 'code'
            WHEN span_type = 'tool' AND contains(evidence, 'Traceback (most recent call last)')
                THEN 'crashed'
            WHEN span_type = 'tool'
              AND regexp_matches(evidence, '(?i)\b(invalid|not found|no such|does not exist|doesn''t exist|not enough|insufficient|missing (required )?(argument|parameter|field|key|value)s?|(is|are) required|required (argument|parameter|field)|must (be|not|have|include)|should be|expected\b.{0,60}\b(got|but|received)|validation|not allowed|not permitted|unauthori[sz]ed|forbidden|bad request|unprocessable|out of range|exceeds?\b|not supported|unsupported|malformed|does not match|mismatch|already exists)\b|(^|[^0-9.])(400|401|403|404|409|422)([^0-9.]|$)')
                THEN 'refused'
            WHEN span_type = 'tool' THEN 'tool'
            WHEN span_type IN ('llm', 'embedding') THEN 'model'
            ELSE 'agent'
        END AS blame,
        CASE WHEN exception_line IS NOT NULL
              AND (source = 'result' OR coalesce(signature, '') = ''
                   OR (length(signature) <= 60 AND regexp_matches(signature,
                       '(?i)^(exit ?code|exit status|exited with|return ?code|returncode|error running tool|command failed|execution failed|tool (call )?failed|error\b[^:]*$)')))
             THEN halo_h_mask(exception_line)
             ELSE signature END AS reason
    FROM issued
),
named AS (
    -- The declared agent of the spans blamed: the callers of agent-blamed failures, and failing agent spans.
    SELECT span_key, declared_agent AS agent
    FROM halo_h_spans
    WHERE span_key IN (
          SELECT caller_key FROM classified WHERE blame IN ('code', 'refused') AND caller_key IS NOT NULL
          UNION ALL
          SELECT span_key FROM classified WHERE blame IN ('agent', 'code', 'refused'))
)
SELECT
    classified.trace_id,
    classified.span_id,
    classified.blame,
    classified.reason,
    classified.exception_line,
    CASE WHEN classified.blame IN ('code', 'refused') THEN classified.caller_span_id END AS caller_span_id,
    CASE classified.blame
        WHEN 'infrastructure' THEN 'infrastructure'
        WHEN 'code' THEN 'agent'
        WHEN 'refused' THEN 'agent'
        WHEN 'crashed' THEN 'tool'
        ELSE classified.blame
    END AS fix_kind,
    CASE
        WHEN classified.blame IN ('code', 'refused') THEN coalesce(caller.agent, own.agent, classified.subject)
        WHEN classified.blame = 'agent' THEN coalesce(own.agent, classified.subject)
        ELSE classified.subject
    END AS fix_name,
    CASE WHEN classified.blame IN ('code', 'refused') THEN classified.caller_model END AS caller_model,
    CASE WHEN classified.blame = 'refused' THEN classified.arguments_head END AS refused_arguments
FROM classified
LEFT JOIN named AS caller ON caller.span_key = classified.caller_key
LEFT JOIN named AS own ON own.span_key = classified.span_key;

-- The agent each model call that works from assumed data speaks for (the agent name it states for
-- itself, else its stored agent name): assumed_data blames that agent.
CREATE OR REPLACE TEMP TABLE halo_h_assumed_agents AS
SELECT span_key, declared_agent AS agent
FROM halo_h_spans
WHERE assumes_data;

-- The groups of root-cause failures of kind error, one group per subject and component to fix
-- (fix_kind, fix_name), so one problem is one finding, with its distinct reasons listed inside
-- (count and a sample each, most common first) instead of one finding per signature. A subject is
-- reported by one detector only: 'status' (what error reports) takes its status-error failures and,
-- when it has any, the failures its results report too; 'result' (what tool_error reports) takes
-- the result-reported failures of subjects that never fail by status. A tool that fails both ways
-- is one finding with both kinds of reasons, not an error and a tool_error. The shape halo_h_failure_findings reads: the reach, examples, title,
-- baseline (NULL: a detector joins its own), seconds, usd and detail. Example spans: the failing
-- spans, and for code an agent wrote, first the model calls that wrote it (the mistake itself).
-- Both detectors' groups are built in this one statement (failure_source says whose a group is:
-- it follows from the subject, which every grouping below includes): planning this query costs
-- more than running it on a small window, and it was planned once per detector.
CREATE OR REPLACE TEMP TABLE halo_h_failure_groups AS
WITH status_subjects AS (
    SELECT DISTINCT span_type, subject, TRUE AS fails_by_status
    FROM halo_h_failures
    WHERE source = 'status' AND kind = 'error' AND NOT propagated
),
failures AS (
    SELECT
        failures.*,
        attribution.blame, attribution.reason, attribution.exception_line, attribution.fix_kind,
        attribution.fix_name, attribution.caller_span_id, attribution.caller_model, attribution.refused_arguments,
        CASE WHEN failures.source = 'status' THEN failures.fails_trace ELSE traces.failed END AS failed_trace,
        CASE WHEN traces.failed THEN traces.trace_cost_usd END                                AS failed_trace_cost,
        NOT traces.failed                                                                      AS trace_ok,
        CASE WHEN status_subjects.fails_by_status THEN 'status' ELSE 'result' END              AS failure_source
    FROM halo_h_failures AS failures
    JOIN halo_h_attribution AS attribution USING (trace_id, span_id)
    JOIN (SELECT trace_id, failed, cost_usd AS trace_cost_usd FROM halo_h_traces) AS traces USING (trace_id)
    LEFT JOIN status_subjects
      ON status_subjects.span_type = failures.span_type AND status_subjects.subject = failures.subject
    WHERE failures.kind = 'error' AND NOT failures.propagated
      AND (coalesce(status_subjects.fails_by_status, FALSE)
           OR (failures.source = 'result' AND status_subjects.fails_by_status IS NULL))
),
ordered AS (
    SELECT
        *,
        row_number() OVER (
            PARTITION BY span_type, subject, fix_kind, fix_name, trace_id
            ORDER BY failed_trace DESC, duration_ms DESC NULLS LAST, start_ns, span_id
        ) AS rank_in_trace
    FROM failures
),
reasons AS (
    SELECT
        span_type, subject, fix_kind, fix_name, reason,
        count(*)                                                            AS spans,
        min((start_ns, span_id))                                            AS first_at,
        arg_min(coalesce(exception_line, message), (start_ns, span_id))     AS sample
    FROM ordered
    GROUP BY ALL
),
reason_lists AS (
    SELECT
        span_type, subject, fix_kind, fix_name,
        count(*)                                                            AS distinct_reasons,
        list({'reason': reason, 'count': spans, 'sample': left(sample, 300)} ORDER BY spans DESC, first_at)[1:8]
                                                                            AS reasons
    FROM reasons
    GROUP BY ALL
),
grouped AS (
    SELECT
        span_type, subject, fix_kind, fix_name, failure_source,
        unnest(halo_h_spread(trace_id, failed_trace, start_time, end_time)),
        sum(coalesce(duration_ms, 0)) / 1000.0                              AS seconds,
        sum(failed_trace_cost) FILTER (WHERE failed_trace AND rank_in_trace = 1) AS failed_trace_usd,
        sum(cost_usd) FILTER (WHERE trace_ok)                               AS span_usd,
        list(span_id ORDER BY failed_trace DESC, duration_ms DESC NULLS LAST, start_ns, span_id) AS failing_span_ids,
        list(caller_span_id ORDER BY start_ns, span_id) FILTER (WHERE blame = 'code' AND caller_span_id IS NOT NULL)
                                                                            AS writer_span_ids,
        list(caller_span_id ORDER BY start_ns, span_id) FILTER (WHERE caller_span_id IS NOT NULL) AS caller_span_ids,
        list_sort(list(DISTINCT caller_model) FILTER (WHERE caller_model IS NOT NULL)) AS caller_models,
        (list(trace_id ORDER BY failed_trace DESC, duration_ms DESC NULLS LAST, start_ns, span_id)
            FILTER (WHERE rank_in_trace = 1))                          AS example_trace_ids,
        arg_min(refused_arguments, (start_ns, span_id)) FILTER (WHERE refused_arguments IS NOT NULL)
                                                                            AS sample_arguments,
        trim(regexp_replace(arg_min(result_head, (start_ns, span_id)) FILTER (WHERE result_head IS NOT NULL),
                            '\s+', ' ', 'g'))                               AS sample_result,
        arg_min(error_type, (start_ns, span_id))                            AS error_type,
        arg_min(blame, (start_ns, span_id))                                 AS blame,
        list_sort(list_distinct(flatten(list(propagated_to))))              AS propagated_to,
        sum(len(propagated_to))                                             AS propagated_spans
    FROM ordered
    GROUP BY span_type, subject, fix_kind, fix_name, failure_source
)
SELECT
    grouped.* EXCLUDE (failing_span_ids, writer_span_ids, caller_span_ids),
    list_filter(grouped.caller_span_ids, lambda x, i: list_position(grouped.caller_span_ids, x) = i)
                                                                            AS caller_span_ids,
    list_concat(list_filter(grouped.writer_span_ids, lambda x, i: list_position(grouped.writer_span_ids, x) = i)[1:3],
                grouped.failing_span_ids)[1:5]                              AS example_span_ids,
    reason_lists.reasons,
    reason_lists.distinct_reasons,
    reason_lists.reasons[1].reason                                          AS signature,
    reason_lists.reasons[1].sample                                          AS sample_message,
    subjects.spans                                                          AS subject_spans,
    subjects.failed_spans                                                   AS subject_failed_spans
FROM grouped
JOIN reason_lists USING (span_type, subject, fix_kind, fix_name)
JOIN halo_h_subjects AS subjects
  ON subjects.span_type = grouped.span_type AND subjects.subject = grouped.subject;

-- The title of an attributed group of failures: what failed, whose fault, how often, and why (the
-- most common reason, and how many other reasons the detail lists).
CREATE OR REPLACE TEMP MACRO halo_h_attributed_title(g) AS
    printf('%s: %d of %d call%s (%.0f%%) in %d trace%s: %s%s',
        CASE g.blame
            WHEN 'code' THEN printf('Code written by %s fails when %s runs it', g.fix_name, g.subject)
            WHEN 'refused' THEN printf('%s sends arguments that %s refuses', g.fix_name, g.subject)
            WHEN 'infrastructure' THEN printf('The service behind %s fails', g.subject)
            WHEN 'model' THEN printf('Model call %s fails', g.subject)
            WHEN 'agent' THEN printf('Span %s fails', g.subject)
            ELSE printf('Tool %s fails', g.subject)
        END,
        g.spans, g.subject_spans, CASE WHEN g.subject_spans = 1 THEN '' ELSE 's' END,
        100.0 * g.spans / g.subject_spans, g.traces, CASE WHEN g.traces = 1 THEN '' ELSE 's' END,
        left(coalesce(nullif(g.signature, ''), 'no error message'), 120),
        CASE WHEN g.distinct_reasons > 1
             THEN printf(' (+%d other reason%s)', g.distinct_reasons - 1, CASE WHEN g.distinct_reasons = 2 THEN '' ELSE 's' END)
             ELSE '' END);

-- The detail of an attributed group: the component to fix (fixTarget), the reasons, and what the
-- component's owner needs to act (the model calls that issued refused calls, the arguments refused).
CREATE OR REPLACE TEMP MACRO halo_h_attributed_detail(g) AS
    json_object(
        'fixTarget', json_object('kind', g.fix_kind, 'name', g.fix_name),
        'blame', g.blame,
        'signature', g.signature,
        'reasons', g.reasons,
        'errorType', g.error_type,
        'sampleMessage', left(g.sample_message, 500),
        'sampleResult', CASE WHEN length(g.sample_result) > 200
                             THEN left(g.sample_result, 199) || '…' ELSE nullif(g.sample_result, '') END,
        'sampleArguments', g.sample_arguments,
        'issuedBy', CASE WHEN g.blame IN ('code', 'refused') THEN g.caller_span_ids[1:5] END,
        'issuingModels', CASE WHEN g.blame IN ('code', 'refused') THEN g.caller_models END,
        'spanType', g.span_type,
        'subjectSpans', g.subject_spans,
        'subjectFailureRate', round(g.subject_failed_spans / g.subject_spans, 4),
        'propagatedTo', g.propagated_to,
        'propagatedSpans', g.propagated_spans
    );
