-- Where a run's report was written (NULL for a follow-up, whose answer is only a message).
UPDATE runs SET report_path = $path WHERE run_id = $run_id
