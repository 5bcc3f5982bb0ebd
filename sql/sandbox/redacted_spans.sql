-- The `spans` a sandbox over the store holds, copied from the view `unredacted_spans` (source.spans)
-- with secrets in every text and JSON column redacted (the column list: spans/_redaction.sql). The
-- LLM and MCP clients query this copy only, so no SQL that reshapes text (upper(), reverse(), replace(), substr()) can bring a secret past the
-- redaction, and no cut can show half of one (MCP clients and `halo-local query`; run snapshots are
-- redacted by the same macro).
{% from "spans/_redaction.sql" import redacted_spans %}
CREATE TABLE spans AS
{{ redacted_spans("unredacted_spans") }};
