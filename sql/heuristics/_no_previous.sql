-- No previous window stored: an empty table of the same shape, so the regression checks find nothing.
CREATE OR REPLACE TEMP TABLE halo_h_previous AS
SELECT trace_id, span_id, span_type, subject, CAST(NULL AS VARCHAR) AS status_code, duration_ms,
       counts_usage, cost_usd
FROM halo_h_spans
WHERE FALSE;
