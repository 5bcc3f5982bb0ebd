-- URL and host attributes of the snapshot's spans (OTel semantic conventions, current and older
-- names): the hosts the traced agent really addressed. Links in LLM text are kept only to these
-- hosts. Free text (prompts, tool output, messages) does not count: that is where an injection
-- would plant the host it wants linked.
SELECT DISTINCT value
FROM (
    SELECT unnest([
        attributes ->> 'url.full', attributes ->> 'http.url', attributes ->> 'url.original',
        attributes ->> 'server.address', attributes ->> 'net.peer.name', attributes ->> 'http.host',
        attributes ->> 'url.domain', attributes ->> 'net.host.name'
    ]) AS value
    FROM window_spans
)
WHERE value IS NOT NULL AND value <> ''
ORDER BY value
LIMIT $row_limit;
