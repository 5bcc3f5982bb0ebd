{#- A run's trace verdicts, ranked (halo_local/verdicts.py documents the score), from parameters:
    $outcomes: JSON text, one object a trace as _outcome_rows.sql gives them (how each trace ended);
    $findings: JSON text, the run's findings as saved (Finding.to_json, in rank order);
    $outcome_names / $outcome_points and $severity_names / $severity_points: the points of each.
    A trace's finding points are summed in the findings' order and the score rounded as Python's
    round(x, 4) does (printf rounds the exact binary value, half to even, as Python does; DuckDB's round()
    does not), so the ranking is the one the Python code gave before, to the last bit. -#}
WITH outcomes AS (
    SELECT unnest(from_json($outcomes, '[{"trace_id": "VARCHAR", "outcome": "VARCHAR", "ended_badly": "BOOLEAN",
                                           "outcome_span_id": "VARCHAR", "spans": "BIGINT", "duration_ms": "DOUBLE",
                                           "first_seen": "TIMESTAMP"}]'), recursive := true)
),
findings AS (
    SELECT position, item.key, item.severity, 1.0 - coalesce(item.traceShare, 0.0) AS unshared,
           item.affectedTraceIds AS traces
    FROM (
        SELECT generate_subscripts(items, 1) AS position, unnest(items) AS item
        FROM (SELECT from_json($findings, '[{"key": "VARCHAR", "severity": "VARCHAR", "traceShare": "DOUBLE",
                                              "affectedTraceIds": ["VARCHAR"]}]') AS items)
    )
),
weighted AS (  -- severity points times how specific the finding is (Python's max(0.0, unshared))
    SELECT position, key, traces,
           coalesce(map($severity_names, $severity_points)[severity], 1.0)
           * CASE WHEN unshared > 0.0 THEN unshared ELSE 0.0 END AS weight
    FROM findings
),
covered AS (  -- a finding covers a trace once, however often it lists it
    SELECT DISTINCT position, key, weight, trace_id
    FROM (SELECT position, key, weight, unnest(traces) AS trace_id FROM weighted)
),
covering AS (
    SELECT
        trace_id,
        list(key ORDER BY position)                                                          AS finding_keys,
        list_reduce(list(weight ORDER BY position), lambda total, weight: total + weight)   AS points
    FROM covered
    GROUP BY trace_id
),
scored AS (
    SELECT
        outcomes.*,
        covering.finding_keys,
        CAST(printf('%.4f', coalesce(map($outcome_names, $outcome_points)[outcomes.outcome], 0.0)
                            + coalesce(covering.points, 0.0)) AS DOUBLE) AS score
    FROM outcomes
    LEFT JOIN covering USING (trace_id)
)
SELECT
    trace_id,
    CAST(row_number() OVER (ORDER BY score DESC, coalesce(duration_ms, 0.0) DESC, trace_id) AS INTEGER) AS rank,
    score,
    outcome,
    coalesce(ended_badly, false)                AS ended_badly,
    outcome_span_id,
    coalesce(finding_keys, []::VARCHAR[])       AS finding_keys,
    spans,
    duration_ms,
    first_seen
FROM scored
