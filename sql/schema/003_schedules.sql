-- Recurring analyses of one agent, fired by `halo-local schedule tick` (cron, every minute).
-- Cadence fields mirror the hosted `inf halo schedule` flags; fire times are computed in Python
-- (zoneinfo) from them, never stored ahead of time.
CREATE TABLE schedules (
    schedule_id        VARCHAR PRIMARY KEY,   -- sch_ + 12 hex
    title              VARCHAR NOT NULL,
    agent_uuid         VARCHAR NOT NULL,
    frequency          VARCHAR NOT NULL,      -- hourly|daily|weekly|monthly
    minutes            INTEGER[] NOT NULL,    -- 0-59, sorted, distinct
    hours              INTEGER[],             -- 0-23; NULL for hourly
    days_of_week       INTEGER[],             -- 0=Sunday..6; only for weekly
    days_of_month      INTEGER[],             -- 1-31; only for monthly (a month lacking the day is skipped)
    timezone           VARCHAR NOT NULL,      -- IANA name the cadence is read in
    prompt             VARCHAR,               -- NULL: the runs' default analysis prompt
    model_id           VARCHAR,               -- NULL: the runs' default model
    span_limit         INTEGER NOT NULL,
    lookback_hours     INTEGER NOT NULL,      -- each run analyses [slot - lookback, slot)
    max_subagent_depth INTEGER NOT NULL,
    max_turns          INTEGER NOT NULL,
    enabled            BOOLEAN NOT NULL,
    archived_at        TIMESTAMP,             -- UTC; NULL while active
    sources            VARCHAR[] NOT NULL,    -- absolute paths or globs loaded before each run
    fired_through      TIMESTAMP NOT NULL,    -- UTC; slots at or before this are fired or not owed
    created_at         TIMESTAMP NOT NULL,    -- UTC
    updated_at         TIMESTAMP NOT NULL     -- UTC
);

-- One row per fire time a tick claimed. The primary key is what makes firing exactly-once: a tick
-- inserts the row (in its own short transaction) before it starts the run, and a tick that cannot
-- insert it knows another one already fired that slot.
CREATE TABLE schedule_fires (
    schedule_id VARCHAR NOT NULL,
    slot_at     TIMESTAMP NOT NULL,           -- UTC fire time this row stands for
    fired_at    TIMESTAMP NOT NULL,           -- UTC time of the tick that claimed it
    run_id      VARCHAR,                      -- NULL until the run is created, or when firing failed
    error       VARCHAR,                      -- why no run was created (loading sources, creating the run)
    PRIMARY KEY (schedule_id, slot_at)
);
