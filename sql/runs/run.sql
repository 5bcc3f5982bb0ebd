-- One run's row, its findings whole (runs/_stored_findings.sql).
{% from "runs/_stored_findings.sql" import stored_findings -%}
SELECT * REPLACE ({{ stored_findings("runs") }} AS findings) FROM runs WHERE run_id = $run_id
