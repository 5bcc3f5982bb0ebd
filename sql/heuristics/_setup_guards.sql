-- What the rest of the set-up has to work on, read after _failures.sql: one row of flags. A set-up
-- table whose input is empty is not built (analysis.py `_SKIPPED_UNLESS` names its flag), and a
-- detector reading a table not built is not run: it could find nothing. Planning those statements
-- costs more than running them on a small window, and most windows have no failure of some kinds.
SELECT
    -- root-cause failures of kind error: halo_h_attribution, halo_h_failure_groups (error, tool_error)
    EXISTS (SELECT 1 FROM halo_h_failures WHERE kind = 'error' AND NOT propagated)                    AS root_errors,
    -- root-cause rate limits and timeouts: halo_h_retried_groups (rate_limit, timeout)
    EXISTS (SELECT 1 FROM halo_h_failures WHERE kind IN ('rate_limit', 'timeout') AND NOT propagated) AS retried_failures
