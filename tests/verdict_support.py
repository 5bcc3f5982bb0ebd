"""The check behind the secret verdict stored with each span (spans.secret_free_under_rules): a span stored
clean holds no text the snapshot would flag or redact. tests/test_secret_verdict.py checks it on spans
built to probe it; the load parity tests check it on every span of the repo's fixtures as each load path
stores them, over the load they make anyway (a second load of the fixtures cost ~5.5 CPU-s)."""

from __future__ import annotations

from typing import Any

from halo_local import redact
from halo_local.store import Store

VERDICT = "secret_free_under_rules"
TEXT_COLUMNS = ("name", "kind", "status_message", "service_name", "agent_name", "session_id", "provider", "model",
                "tool_name", "tool_arguments", "tool_result", "finish_reason", "error_type", "error_message",
                "input_text", "output_text", "scope_name", "scope_version", "source_file")
JSON_COLUMNS = ("attributes", "resource_attributes", "events", "links")
# Every text of a span exactly as the snapshot checks it, and each text redacted on its own (one lambda over
# the list of texts: DuckDB plans the redaction macro once, not once a column, ~0.4 s an example saved).
RECHECK = f"""
SELECT span_id, {VERDICT},
       may_hold_secret(concat_ws(chr(10), {", ".join(TEXT_COLUMNS)}, array_to_string(declared_tools, chr(10)),
                                 {", ".join(column + "::VARCHAR" for column in JSON_COLUMNS)})) AS flagged,
       list_transform([{", ".join(TEXT_COLUMNS)}, {", ".join(column + "::VARCHAR" for column in JSON_COLUMNS)}],
                      lambda text: text IS NOT DISTINCT FROM redact_secrets(text))
       || [declared_tools IS NOT DISTINCT FROM list_transform(declared_tools, lambda tool: redact_secrets(tool))]
       AS unchanged
FROM spans
"""


def recheck(store: Store) -> list[tuple[Any, ...]]:
    """(span_id, stored verdict, flagged by the secret check, each text unchanged by redaction) a span."""
    with store.connect() as connection:
        connection.execute(redact.sql_macro())
        return connection.execute(RECHECK).fetchall()


def assert_clean_verdicts_hold(store: Store) -> list[tuple[Any, ...]]:
    """Every span of `store` with a verdict was stored under the current rules, and holds nothing the secret
    check flags or redaction changes; returns `recheck`'s rows."""
    rows = recheck(store)
    rules = redact.rules_fingerprint()
    for span_id, verdict, flagged, unchanged in rows:
        if verdict is not None:
            assert verdict == rules, span_id
            assert not flagged and all(unchanged), span_id
    return rows
