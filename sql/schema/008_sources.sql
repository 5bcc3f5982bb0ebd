-- Sources besides the local store (halo_local/sources): named shortcuts for source URLs, kept without
-- any password (it comes from HALO_CLICKHOUSE_PASSWORD at use), and which source a run read.
CREATE TABLE named_sources (
    name     VARCHAR PRIMARY KEY,
    url      VARCHAR NOT NULL,           -- redacted form: never a password
    added_at TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')
);
ALTER TABLE runs ADD COLUMN source VARCHAR; -- the redacted source URL; NULL = the local store
