-- Trace verdicts: for every trace in a run's window, how it ended and the findings that cover it,
-- ranked by how likely the trace failed (see halo_local/verdicts.py for the score). Written by the
-- run's worker with the findings; `run traces` reads them.
CREATE TABLE trace_verdicts (
    run_id          VARCHAR NOT NULL,
    trace_id        VARCHAR NOT NULL,
    rank            INTEGER NOT NULL,         -- 1 = read first
    score           DOUBLE NOT NULL,          -- how likely the trace failed; 0 = nothing points at it
    outcome         VARCHAR NOT NULL,         -- failed | handed_off | gave_up | cut_short | ok
    ended_badly     BOOLEAN NOT NULL,         -- outcome <> 'ok'
    outcome_span_id VARCHAR,                  -- the span that shows the outcome (hand-off call, last message, ...)
    finding_keys    VARCHAR[] NOT NULL,       -- keys of the run's findings that cover it, in the findings' order
    spans           BIGINT,
    duration_ms     DOUBLE,
    first_seen      TIMESTAMP,
    PRIMARY KEY (run_id, trace_id)
);
