-- report.html's latency histograms: the subjects where most wall time goes (as the report's latency
-- section names them), each with p50/p95 and its durations counted into $bins log-scale bins between
-- its fastest and slowest span (a log scale keeps a long tail from squashing the common case).
WITH named AS (
    SELECT
        CASE WHEN contains(lower(coalesce(scope_name, '')), 'beeai') THEN regexp_replace(name, '-[0-9]+$', '')
             ELSE name END                         AS subject,
        span_type,
        greatest(duration_ms, 0.001)               AS duration_ms
    FROM window_spans
    WHERE duration_ms IS NOT NULL
),
dominant AS (
    SELECT
        subject, span_type,
        count(*)                                   AS spans,
        sum(duration_ms)                           AS total_ms,
        quantile_cont(duration_ms, 0.5)            AS p50_ms,
        quantile_cont(duration_ms, 0.95)           AS p95_ms,
        min(duration_ms)                           AS min_ms,
        max(duration_ms)                           AS max_ms
    FROM named
    GROUP BY ALL
    ORDER BY total_ms DESC, subject, span_type
    LIMIT $subject_limit
),
binned AS (
    SELECT
        d.subject, d.span_type,
        CASE WHEN d.max_ms <= d.min_ms THEN 0
             ELSE least($bins - 1, floor((ln(n.duration_ms) - ln(d.min_ms)) / (ln(d.max_ms) - ln(d.min_ms)) * $bins))
        END::INTEGER                               AS bin
    FROM named n
    JOIN dominant d USING (subject, span_type)
)
SELECT d.subject, d.span_type, d.spans, d.total_ms, d.p50_ms, d.p95_ms, d.min_ms, d.max_ms,
       b.bin, count(*) AS spans_in_bin
FROM binned b
JOIN dominant d USING (subject, span_type)
GROUP BY ALL
ORDER BY d.total_ms DESC, d.subject, d.span_type, b.bin;
