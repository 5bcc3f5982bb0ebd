-- What changed since the last run: an analysis run's findings compared with those of the previous
-- completed analysis run of the same agent (halo_local/changes.py): {previousRunId, new, stillOpen,
-- gone, newHigh}. NULL for runs made before this migration and for runs that did not complete.
ALTER TABLE runs ADD COLUMN changes JSON;
