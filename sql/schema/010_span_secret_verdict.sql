-- A span's secret check, made once when it is stored instead of in every run's snapshot: the
-- fingerprint of the redaction rules (halo_local/redact.py's rules_fingerprint) under which every text
-- the snapshot redacts (spans/_redaction.sql) was found free of anything secret-shaped. NULL when the
-- span may hold a secret, was stored before this migration, or a derived text changed after the check;
-- a fingerprint of other rules counts as NULL. Either way the snapshot checks the span itself.
ALTER TABLE spans ADD COLUMN secret_free_under_rules VARCHAR;
