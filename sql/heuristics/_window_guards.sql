-- What the window holds, read after _prepare.sql: one row of flags for the set-up tables that are
-- built only when their input has rows (analysis.py `_SKIPPED_UNLESS`, `_EMPTY_UNLESS`), and the
-- shape of halo_h_spans (the column types every set-up table derives from: an empty table is made
-- from the columns a built one had, for the same shape). Planning a statement costs more than
-- running it on a small window, and most windows have no failing span, or no model call stating a
-- figure or a quoted name. Parameters: $source_table, $agent_uuid.
SELECT
    -- failing spans: halo_h_failures
    EXISTS (SELECT 1 FROM halo_h_spans WHERE is_failure)      AS failing_spans,
    -- model calls that say they work from assumed data: halo_h_assumed_agents (assumed_data)
    EXISTS (SELECT 1 FROM halo_h_spans WHERE assumes_data)    AS assumed_data,
    -- model calls whose output holds a digit or a double quote (a figure or a quoted name: without
    -- one no fact can be stated): halo_h_claims. Read from the window, not
    -- flagged on every span: the search stops at the first such output.
    EXISTS (SELECT 1 FROM query_table($source_table)
            WHERE agent_uuid = $agent_uuid AND span_type = 'llm'
              AND halo_h_may_state_fact(output_text)) AS stated_facts,
    -- outputs or tool results holding a word an outcome marker needs: halo_h_texts (stall,
    -- incapability, declines)
    EXISTS (SELECT 1 FROM query_table($source_table)
            WHERE agent_uuid = $agent_uuid AND span_type IN ('llm', 'tool', 'agent')
              AND halo_h_may_hold_marker(output_text, tool_result)) AS marker_texts,
    (SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY column_index)
     FROM duckdb_columns() WHERE database_name = 'temp' AND table_name = 'halo_h_spans') AS spans_shape
