-- Record a run's comparison with the previous completed run (halo_local/changes.py).
UPDATE runs SET changes = $changes WHERE run_id = $run_id;
