-- bench/clickhouse.py: the local store's copy of the spans sql/bench/clickhouse_spans.sql generated in
-- chDB, made by SQL. The store holds the first $template_traces traces, fetched from chDB and normalized
-- like any selection; every later trace repeats the normalized rows of the template trace with its
-- index modulo $template_traces (agent, errors, tools and usage repeat with that period), with the ids,
-- start times and durations the generator gives it (the same formulas). The bench then checks that
-- both sides count the same agents and the same window overview.
INSERT INTO spans BY NAME
WITH template AS (
    SELECT *, CAST('0x' || span_id AS UBIGINT) - 1 AS span_number
    FROM spans
),
copied AS (
    SELECT
        template.*,
        trace,
        span_number % 16 AS slot,
        CAST(($start_us + (trace * 604800000000) // $traces + slot * 1000) * 1000 AS BIGINT) AS copy_start_ns,
        CAST(copy_start_ns + (10 + (trace * 7 + slot * 13) % 900) * 1000000 AS BIGINT) AS copy_end_ns
    FROM range($template_traces, $traces) AS traces(trace)
    JOIN template ON span_number // 16 = trace % $template_traces
)
SELECT * EXCLUDE (span_number, trace, slot, copy_start_ns, copy_end_ns, loaded_at) REPLACE (
    printf('%032x', trace + 1)                                                    AS trace_id,
    printf('%016x', trace * 16 + slot + 1)                                        AS span_id,
    CASE WHEN parent_span_id IS NOT NULL THEN printf('%016x', trace * 16 + 1) END AS parent_span_id,
    copy_start_ns                                                                 AS start_ns,
    copy_end_ns                                                                   AS end_ns,
    make_timestamp(copy_start_ns // 1000)                                         AS start_time,
    make_timestamp(copy_end_ns // 1000)                                           AS end_time,
    (copy_end_ns - copy_start_ns) / 1e6                                           AS duration_ms
)
FROM copied;
