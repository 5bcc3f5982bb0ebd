-- URL and host attributes of the snapshot's spans (OTel semantic conventions, current and older
-- names): the hosts the traced agent really addressed. Links in LLM text are kept only to these
-- hosts. Free text (prompts, tool output, messages) does not count: that is where an injection
-- would plant the host it wants linked.
-- Each span's attributes are parsed once for all eight keys, and only when the stored JSON names a
-- key of these families (a top-level key is stored as written, "url.full"): parsing every span's
-- attributes eight times cost 4.3 CPU-s over a 1M-span snapshot, this 1.0. The families are found in
-- one scan, whose common first character RE2 skips to, where four `contains` scanned four times (1.4).
SELECT DISTINCT value
FROM (
    SELECT unnest(json_extract_string(attributes, [
        'url.full', 'http.url', 'url.original', 'server.address', 'net.peer.name', 'http.host', 'url.domain',
        'net.host.name'])) AS value
    FROM window_spans
    WHERE regexp_matches(attributes, '"(?:url\.|http\.|server\.address"|net\.)')
)
WHERE value IS NOT NULL AND value <> ''
ORDER BY value
LIMIT $row_limit;
