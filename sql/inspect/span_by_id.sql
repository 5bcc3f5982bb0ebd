-- Every span with this id (ids repeat across traces), for `span get`.
SELECT * EXCLUDE (loaded_at, secret_free_under_rules) FROM spans WHERE span_id = $span_id ORDER BY trace_id
