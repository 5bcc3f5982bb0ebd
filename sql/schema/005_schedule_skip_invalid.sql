-- How a schedule's runs load its --source files: TRUE leaves bad records and unreadable files out
-- (a file a collector is still writing loads once it is complete) and runs on what loaded; FALSE
-- stops at the first bad record and fails the fire, as `traces load` without --skip-invalid does.
-- Existing schedules keep what they did: they always skipped bad records.
ALTER TABLE schedules ADD COLUMN skip_invalid BOOLEAN NOT NULL DEFAULT TRUE;
