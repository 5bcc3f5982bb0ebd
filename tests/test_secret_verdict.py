"""The secret verdict stored with each span (spans.secret_free_under_rules): made once at load over exactly
the texts a snapshot redacts, trusted by the snapshot and the sandbox copy only under the current rules.

What must hold: a span the stored verdict calls clean is one that redacting every column leaves as it is
(so skipping its check changes no byte); every load path writes the verdict over the texts as stored,
derived ones included (input_text, agent_name set after the load); spans without a verdict, or with one
made under other rules, are checked as before.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from runs_support import AGENT_UUID, BASE, span
from secret_corpus import CORPUS, leaked_shapes
from verdict_support import RECHECK, VERDICT, assert_clean_verdicts_hold

from halo_local import redact
from halo_local.ingest import load_paths, loader, onepass
from halo_local.resources import _sql_environment
from halo_local.runs import snapshot
from halo_local.store import Store, apply_migrations

WINDOW = {"agent_uuid": AGENT_UUID, "window_start": BASE - timedelta(hours=1), "window_end": BASE + timedelta(hours=1)}

# Pieces that make secrets, near-secrets and the escapes the patterns treat as boundaries.
_PIECES = ("sk-ant-api03-Vc4Wk8Mn3Aq", "sk-proj-En5Sa7Az3Fu4Ss8Tg4", "AKIAQ1MDZBEX0DV2AQ7W", "password", "token",
           "secret", "api_key", "Bearer ", "is ", "=", ": ", '"', '\\"', "\\n", "\n", "\t", "\\t", "%3D", " ",
           "hunter2!", "abc123def456ghi789", "Qucduc1-Nt-4gHu2Uv8", "://deploy:", "@db.internal", "{", "}", "[",
           "]", ",", "ok", "done", "é", "\\u0041", "-----BEGIN RSA PRIVATE KEY-----", "eyJhbGciOiJIUzI1",
           ".", "--password ", "pass", "ghp_00X6a87U876m0555K8885t8", "hooks.slack.com/services/")
_TEXT = st.lists(st.sampled_from(_PIECES), max_size=8).map("".join)
_SPAN_TEXTS = st.fixed_dictionaries({
    "input_text": _TEXT, "output_text": _TEXT, "tool_arguments": _TEXT, "name": _TEXT, "agent_name": _TEXT,
    "model": _TEXT, "source_file": _TEXT,
    "attributes": st.dictionaries(_TEXT, _TEXT, max_size=3).map(json.dumps),
    "declared_tools": st.lists(_TEXT, max_size=2),
})


@pytest.fixture(scope="module")
def verdict_connection() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory store with every migration and the secret macros."""
    connection = duckdb.connect()
    apply_migrations(connection)
    connection.execute(redact.sql_macro())
    yield connection
    connection.close()


def _store_with_verdicts(connection: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> None:
    """Insert `rows` with the verdict the load gives them (spans/_redaction.sql's with_secret_verdict)."""
    connection.execute("DELETE FROM spans")
    for row in rows:
        connection.execute(f"INSERT INTO spans BY NAME SELECT {', '.join('$' + name + ' AS ' + name for name in row)}",
                           row)
    connection.execute(f"CREATE OR REPLACE TEMP TABLE candidate AS SELECT * EXCLUDE ({VERDICT}), "
                       "$secret_rules AS secret_rules FROM spans", {"secret_rules": redact.rules_fingerprint()})
    connection.execute("DELETE FROM spans")
    connection.execute(_sql_environment().from_string(
        '{% from "spans/_redaction.sql" import with_secret_verdict %}'
        'INSERT INTO spans BY NAME {{ with_secret_verdict("candidate") }}').render())


def _snapshot_rows(connection: duckdb.DuckDBPyConnection, path: Path) -> list[tuple[Any, ...]]:
    snapshot.write_snapshot(connection, {**WINDOW, "span_limit": 1000}, path)
    return connection.execute("SELECT * FROM read_parquet($path) ORDER BY span_id", {"path": str(path)}).fetchall()


# An example costs two snapshots, planned whatever its few spans hold (~0.18 CPU-s): 15 examples of up to 8
# spans check about as many spans as 30 of up to 4 did, for half the snapshots.
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(_SPAN_TEXTS, min_size=1, max_size=8))
def test_a_span_stored_clean_comes_out_as_redacting_every_column_would(
        verdict_connection: duckdb.DuckDBPyConnection, texts: list[dict[str, Any]]) -> None:
    connection = verdict_connection
    _store_with_verdicts(connection, [span(0, index, start=BASE, **columns) for index, columns in enumerate(texts)])
    for span_id, verdict, _, unchanged in connection.execute(RECHECK).fetchall():
        if verdict is not None:
            assert all(unchanged), span_id
    with tempfile.TemporaryDirectory() as folder:
        trusted = _snapshot_rows(connection, Path(folder) / "trusted.parquet")
        connection.execute(f"UPDATE spans SET {VERDICT} = NULL")  # every span checked, as before the verdict
        checked = _snapshot_rows(connection, Path(folder) / "checked.parquet")
    assert trusted == checked


_ESCAPED_A = "<a>"
"""Written to the file as the JSON escape \\u0061: a secret that shows only once the escape is undone."""


def _otlp_span(span_id: int, attributes: dict[str, str], *, parent: int | None = None) -> dict[str, Any]:
    start = int((BASE - datetime(1970, 1, 1)).total_seconds() * 1e9) + span_id
    item: dict[str, Any] = {
        "traceId": "ab" * 16, "spanId": f"{span_id:016x}", "name": f"step {span_id}",
        "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + 1000),
        "attributes": [{"key": key, "value": {"stringValue": value}} for key, value in attributes.items()]}
    if parent is not None:
        item["parentSpanId"] = f"{parent:016x}"
    return item


def _otlp_file(path: Path, spans: list[dict[str, Any]]) -> Path:
    document = {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name",
                                                                "value": {"stringValue": "verdict-service"}}]},
                                   "scopeSpans": [{"scope": {"name": "verdict"}, "spans": spans}]}]}
    path.write_text(json.dumps(document).replace(_ESCAPED_A, "\\u0061") + "\n", encoding="utf-8")
    return path


def _secret_spans() -> list[dict[str, Any]]:
    """Every corpus secret as an LLM span's input or output, where normalize derives input_text/output_text
    from it; a secret that only shows once the JSON escapes are undone (a tab, a \\u escape); and clean spans."""
    spans = []
    for index, planted in enumerate(CORPUS):
        text = "\n".join(planted.columns.values())
        spans.append(_otlp_span(index + 1, {"openinference.span.kind": "LLM", "input.value": text}))
    named = _otlp_span(902, {"openinference.span.kind": "TOOL"})
    named["name"] = "deploy with sk-ant-api03-Nm4Wk8Mn3Aq4Bq7Wk"
    spans.append(named)
    spans.append(_otlp_span(900, {"openinference.span.kind": "LLM", "input.value": "the password is\thunter2!"}))
    spans.append(_otlp_span(901, {"openinference.span.kind": "LLM", "output.value": f"sk-ant-{_ESCAPED_A}pi03-Xc4Wk8Mn3"}))
    spans += [_otlp_span(1000 + index, {"openinference.span.kind": "LLM", "input.value": f"plain question {index}"})
              for index in range(20)]
    return spans


@pytest.fixture(params=["part-by-part", "one-pass"])
def load_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "one-pass":
        monkeypatch.setenv(onepass.MIN_BYTES_ENV, "0")
        monkeypatch.setattr(loader, "GROUP_FILE_BYTES", -1)
    else:
        monkeypatch.setenv(onepass.MIN_BYTES_ENV, str(1 << 40))
    return str(request.param)


def test_every_load_path_stores_the_verdict_over_the_texts_as_stored(tmp_path: Path, load_path: str) -> None:
    # The fixtures' real shapes are checked by test_load_parity and test_onepass over the loads they make of
    # them (the regular and the one-pass path): here the corpus' secrets, planted where the load derives texts.
    store = Store(tmp_path / "home")
    load_paths(store, [_otlp_file(tmp_path / "secrets.json", _secret_spans())])
    rows = assert_clean_verdicts_hold(store)
    rules = redact.rules_fingerprint()
    assert {verdict for _, verdict, _, _ in rows} == {None, rules}
    by_id = {span_id: verdict for span_id, verdict, _, _ in rows}
    planted = [f"{index + 1:016x}" for index in range(len(CORPUS))] + [f"{extra:016x}" for extra in (900, 901, 902)]
    assert [span_id for span_id in planted if by_id[span_id] is not None] == []
    assert all(by_id[f"{1000 + index:016x}"] == rules for index in range(20))


def test_a_verdict_under_other_rules_or_none_is_checked_again(tmp_path: Path) -> None:
    store = Store(tmp_path / "home")
    load_paths(store, [_otlp_file(tmp_path / "secrets.json", _secret_spans())])
    with store.connect() as connection:
        agent = connection.execute("SELECT any_value(agent_uuid) FROM spans").fetchall()[0][0]
    window = {**WINDOW, "agent_uuid": agent, "span_limit": 1000}

    def snapshot_text(name: str) -> str:  # the window's snapshot and, as the previous window's, the short one
        with store.connect() as connection:
            connection.execute(redact.sql_macro())
            snapshot.write_snapshot(connection, window, tmp_path / name)
            snapshot.write_snapshot(connection, window, tmp_path / f"short-{name}", comparison_only=True)
            short = connection.execute("SELECT * FROM read_parquet($path) ORDER BY span_id",
                                       {"path": str(tmp_path / f"short-{name}")}).fetchall()
            assert ("deploy with sk-ant" in str(short)) == (name == "forged.parquet")
            rows = connection.execute("SELECT * FROM read_parquet($path) ORDER BY span_id",
                                      {"path": str(tmp_path / name)}).fetchall()
        return "\n".join(map(str, rows))

    def forge(verdict: str | None) -> None:  # every span called clean under `verdict`, secrets included
        with store.transaction() as connection:
            connection.execute(f"UPDATE spans SET {VERDICT} = $verdict", {"verdict": verdict})

    loaded = snapshot_text("loaded.parquet")
    assert leaked_shapes([loaded]) == []
    forge("rules-of-an-older-version")
    assert snapshot_text("older.parquet") == loaded
    forge(None)  # as stored before the migration
    assert snapshot_text("unchecked.parquet") == loaded
    forge(redact.rules_fingerprint())  # trusted: the check is skipped, so the forged secrets show
    assert leaked_shapes([snapshot_text("forged.parquet")]) != []


def test_new_rules_make_old_verdicts_count_as_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(tmp_path / "home")
    load_paths(store, [_otlp_file(tmp_path / "clean.json", [
        _otlp_span(1, {"openinference.span.kind": "LLM", "input.value": "the launch code is zebra-7"})])])
    with store.connect() as connection:
        agent, stored_under = connection.execute(f"SELECT agent_uuid, {VERDICT} FROM spans").fetchall()[0]
    assert stored_under == redact.rules_fingerprint()
    launch_code = redact.RedactionPattern("launch code", r"zebra-[0-9]", redact.REDACTED)
    monkeypatch.setattr(redact, "PATTERNS", (*redact.PATTERNS, launch_code))
    monkeypatch.setattr(redact, "ANY_SECRET", redact.ANY_SECRET + "|(?:zebra-[0-9])")
    assert redact.rules_fingerprint() != stored_under
    with store.connect() as connection:
        connection.execute(redact.sql_macro())
        snapshot.write_snapshot(connection, {**WINDOW, "agent_uuid": agent, "span_limit": 10}, tmp_path / "s.parquet")
        text = connection.execute("SELECT input_text FROM read_parquet($path)",
                                  {"path": str(tmp_path / "s.parquet")}).fetchall()[0][0]
    assert text == "the launch code is " + redact.REDACTED


def test_an_agent_name_derived_after_the_load_drops_the_verdict(tmp_path: Path) -> None:
    """A child loaded first is stored clean under its service's name; its parent, loaded from a later
    file, names the agent with a secret, which the derive then writes onto the child."""
    store = Store(tmp_path / "home")
    child = _otlp_span(2, {"openinference.span.kind": "TOOL", "tool.name": "deploy"}, parent=1)
    parent = _otlp_span(1, {"openinference.span.kind": "AGENT", "agent.name": "bot sk-ant-api03-Vc4Wk8Mn3Aq4Bq7Wk"})
    load_paths(store, [_otlp_file(tmp_path / "child.json", [child])])
    with store.connect() as connection:
        assert connection.execute(f"SELECT {VERDICT} FROM spans").fetchall() == [(redact.rules_fingerprint(),)]
    load_paths(store, [_otlp_file(tmp_path / "parent.json", [parent])])
    with store.connect() as connection:
        agent, verdict = connection.execute(
            f"SELECT agent_uuid, {VERDICT} FROM spans WHERE span_id = $id", {"id": f"{2:016x}"}).fetchall()[0]
        connection.execute(redact.sql_macro())
        snapshot.write_snapshot(connection, {**WINDOW, "agent_uuid": agent, "span_limit": 10}, tmp_path / "s.parquet")
        names = connection.execute("SELECT agent_name FROM read_parquet($path)",
                                   {"path": str(tmp_path / "s.parquet")}).fetchall()
    assert verdict is None
    assert names == [("bot " + redact.REDACTED,)] * 2
