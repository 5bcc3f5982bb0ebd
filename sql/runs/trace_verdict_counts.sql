-- How many traces a run's verdicts hold, how many of them are flagged (score > 0) and ended badly.
SELECT count(*) AS traces,
       count(*) FILTER (WHERE score > 0) AS flagged,
       count(*) FILTER (WHERE ended_badly) AS ended_badly
FROM trace_verdicts
WHERE run_id = $run_id
