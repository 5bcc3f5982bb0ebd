-- report.html's failures over the window: failing spans per subject (the tool, else the span name)
-- in $buckets equal slices of [$window_start, $window_end), for the subjects that fail most.
WITH failing AS (
    SELECT coalesce(tool_name, name) AS subject, start_time
    FROM window_spans
    WHERE status_code = 'error'
),
top_subjects AS (
    SELECT subject, count(*) AS failures
    FROM failing
    GROUP BY subject
    ORDER BY failures DESC, subject
    LIMIT $subject_limit
)
SELECT
    f.subject,
    t.failures,
    least($buckets - 1, greatest(0, floor(epoch(f.start_time - $window_start::TIMESTAMP)
        / epoch($window_end::TIMESTAMP - $window_start::TIMESTAMP) * $buckets)))::INTEGER AS bucket,
    count(*) AS failures_in_bucket
FROM failing f
JOIN top_subjects t USING (subject)
GROUP BY ALL
ORDER BY t.failures DESC, f.subject, bucket;
