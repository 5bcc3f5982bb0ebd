-- Analysis runs, their event timelines, and the conversations whose first assistant message is a
-- run's report. A run is written by its worker in short transactions (status, heartbeat, events),
-- so other commands can read and write the database while an analysis is under way.

CREATE TABLE conversations (
    conversation_id VARCHAR PRIMARY KEY,      -- conv_ + 12 hex
    title           VARCHAR NOT NULL,
    agent_uuid      VARCHAR NOT NULL,
    agent_name      VARCHAR,
    created_at      TIMESTAMP NOT NULL,       -- UTC
    updated_at      TIMESTAMP NOT NULL        -- UTC, last message added
);

CREATE TABLE runs (
    run_id              VARCHAR PRIMARY KEY,  -- run_ + 12 hex
    conversation_id     VARCHAR NOT NULL,
    kind                VARCHAR NOT NULL,     -- analysis | followup
    parent_run_id       VARCHAR,              -- a follow-up's analysis run (whose snapshot it reads)
    schedule_id         VARCHAR,              -- the schedule that fired it, if any
    status              VARCHAR NOT NULL,     -- queued|running|completed|failed|cancelled|timed_out|no_traces
    status_reason       VARCHAR,              -- why it ended as it did (error text, cancel reason, ...)
    agent_uuid          VARCHAR NOT NULL,
    agent_name          VARCHAR,
    prompt              VARCHAR NOT NULL,     -- the analysis prompt, or a follow-up's question
    window_start        TIMESTAMP NOT NULL,   -- UTC, inclusive
    window_end          TIMESTAMP NOT NULL,   -- UTC, exclusive
    model_id            VARCHAR NOT NULL,
    no_llm              BOOLEAN NOT NULL,
    span_limit          INTEGER NOT NULL,
    max_subagent_depth  INTEGER NOT NULL,
    max_turns           INTEGER NOT NULL,
    time_limit_seconds  INTEGER NOT NULL,
    thresholds          JSON,                 -- heuristics thresholds this run overrides ({name: number})
    created_at          TIMESTAMP NOT NULL,
    started_at          TIMESTAMP,
    finished_at         TIMESTAMP,
    heartbeat_at        TIMESTAMP,
    worker_pid          INTEGER,
    worker_started_ticks BIGINT,              -- the worker's start time in clock ticks (/proc), against pid reuse
    worker_host         VARCHAR,
    cancel_requested_at TIMESTAMP,
    cancel_reason       VARCHAR,
    -- The trace dataset: what the snapshot holds.
    snapshot_path       VARCHAR,
    snapshot_spans      BIGINT,
    snapshot_traces     BIGINT,
    window_spans        BIGINT,               -- spans of the agent in the window before the span limit
    window_traces       BIGINT,
    snapshot_truncated  BOOLEAN,              -- the span limit left some of the window's traces out
    previous_spans      BIGINT,               -- spans in the previous window of the same length
    -- The LLM pass.
    llm_ran             BOOLEAN NOT NULL DEFAULT FALSE,
    llm_skip_reason     VARCHAR,              -- why it did not run (--no-llm, no key)
    degraded            BOOLEAN NOT NULL DEFAULT FALSE, -- the LLM pass failed; the report is heuristics-only
    llm_error           VARCHAR,
    llm_input_tokens    BIGINT,
    llm_output_tokens   BIGINT,
    llm_cache_read_tokens  BIGINT,
    llm_cache_write_tokens BIGINT,
    llm_cost_usd        DOUBLE,               -- NULL when the model cannot be priced
    llm_turns           INTEGER,
    llm_invented_ids_removed INTEGER,
    -- What the run produced.
    findings            JSON,                 -- [Finding.to_json()], ranked
    checks              JSON,                 -- [CheckResult.to_json()]: what each detector examined
    llm_result          JSON,                 -- {summary, notes: [...]} when the LLM pass ran
    report_path         VARCHAR
);

CREATE TABLE run_events (
    run_id   VARCHAR NOT NULL,
    seq      INTEGER NOT NULL,                -- 1, 2, ... per run
    created_at TIMESTAMP NOT NULL,            -- UTC
    kind     VARCHAR NOT NULL,                -- queued, started, heartbeat, step_started, step_finished, llm_turn, tool_call, ...
    message  VARCHAR NOT NULL,                -- one human line
    detail   JSON,
    PRIMARY KEY (run_id, seq)
);

CREATE TABLE messages (
    conversation_id VARCHAR NOT NULL,
    seq             INTEGER NOT NULL,         -- 1, 2, ... per conversation
    role            VARCHAR NOT NULL,         -- user | assistant
    content         VARCHAR NOT NULL,         -- markdown
    run_id          VARCHAR,                  -- the run that asked or answered
    created_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);
