-- The traces each finding covers, from $findings (the run's findings, Finding.to_json of each, ranked,
-- with their whole affectedTraceIds): one row a trace, in each list's order.
INSERT INTO run_finding_traces (run_id, finding, position, trace_id)
SELECT $run_id, finding, generate_subscripts(trace_ids, 1), unnest(trace_ids)
FROM (
    SELECT generate_subscripts(items, 1) AS finding, unnest(items).affectedTraceIds AS trace_ids
    FROM (SELECT from_json($findings, '[{"affectedTraceIds": ["VARCHAR"]}]') AS items)
)
