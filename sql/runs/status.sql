-- A run's status, read inside the transaction that may change it.
SELECT status FROM runs WHERE run_id = $run_id
