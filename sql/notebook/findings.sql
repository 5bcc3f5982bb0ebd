-- One row per finding of the analysis runs (or of $run_id), in each run's rank order; every
-- finding's whole JSON document (its traces read back: runs/_stored_findings.sql) is kept beside
-- the columns most analyses group by.
{% from "runs/_stored_findings.sql" import stored_findings -%}
WITH listed AS (
    SELECT r.run_id, r.agent_uuid, r.agent_name, r.created_at,
           unnest(CAST({{ stored_findings("r") }} AS JSON[])) AS finding,
           generate_subscripts(CAST(r.findings AS JSON[]), 1) AS rank
    FROM runs r
    WHERE r.kind = 'analysis' AND r.findings IS NOT NULL
      AND ($run_id IS NULL OR r.run_id = $run_id)
      AND ($agent_uuid IS NULL OR r.agent_uuid = $agent_uuid)
)
SELECT
    run_id, agent_uuid, agent_name, created_at AS run_created_at, rank,
    finding ->> 'key'       AS finding_key,
    finding ->> 'category'  AS category,
    finding ->> 'severity'  AS severity,
    finding ->> 'subject'   AS subject,
    finding ->> 'title'     AS title,
    finding                 AS document
FROM listed
ORDER BY run_created_at DESC, run_id, rank;
