-- How each trace of the window ended (halo_h_outcomes, built by _outcomes.sql), in trace id order:
-- what a run's trace verdicts start from.
SELECT
    outcomes.trace_id,
    outcomes.outcome,
    outcomes.ended_badly,
    coalesce(outcomes.handoff_span_id, outcomes.gave_up_span_id, outcomes.cut_short_span_id) AS outcome_span_id,
    traces.spans,
    traces.duration_ms,
    traces.first_seen
FROM halo_h_outcomes AS outcomes
JOIN halo_h_traces AS traces USING (trace_id)
ORDER BY outcomes.trace_id
