-- The traces each finding of a run covers (its `affectedTraceIds`, in their order), one row a trace,
-- kept out of runs.findings. DuckDB rewrites a row group's column whole when a checkpoint finds it
-- changed, and every run's row shares one row group of `runs`: with the lists inside the findings, each
-- new run rewrote every earlier run's lists, twice (its row, then its findings), ~0.9 s a checkpoint
-- once 20 runs of 1M spans were stored, growing with each run kept. These narrow rows are only
-- appended; runs.findings keeps each finding with an empty list (runs/_stored_findings.sql puts the
-- list back). The lists of runs saved before are moved here one run at a time after this file
-- (store.py `_MIGRATION_STEPS`: every run's findings parsed at once ran out of memory).
CREATE TABLE run_finding_traces (
    run_id    VARCHAR NOT NULL,
    finding   INTEGER NOT NULL,   -- the finding's place in runs.findings, from 1
    position  INTEGER NOT NULL,   -- the trace's place in the finding's list, from 1
    trace_id  VARCHAR NOT NULL
);
