-- A run's trace verdicts, ranked in SQL from the window's trace outcomes and the run's findings
-- (runs/_ranked_trace_verdicts.sql says from which parameters).
INSERT INTO trace_verdicts
SELECT $run_id, trace_id, rank, score, outcome, ended_badly, outcome_span_id, finding_keys, spans, duration_ms,
       first_seen
FROM (
{% include "runs/_ranked_trace_verdicts.sql" %}
)
