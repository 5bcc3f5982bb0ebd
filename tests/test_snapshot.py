"""The snapshot's rows: the kept spans (whole traces, error traces first, within the span limit; a first
trace over the limit cut to its earliest spans), redacted, with the columns and types of `spans`; and
the link hosts the report reads from it.

The snapshot is one unsorted query written by DuckDB (sql/runs/snapshot*.sql): these pin which rows
it keeps whatever order they come in."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
from runs_support import AGENT_UUID, BASE, agent_traces, create_run, insert_spans, span

from halo_local import heuristics, redact
from halo_local.runs import snapshot
from halo_local.store import Store


def _snapshot_rows(run: dict) -> list[tuple]:
    with duckdb.connect() as connection:
        return connection.execute(
            "SELECT start_ns, trace_id, span_id, tool_arguments FROM read_parquet($path)",
            {"path": run["traceDataset"]["path"]}).fetchall()


def test_snapshot_holds_every_span_of_the_window_redacted(store: Store) -> None:
    rows = agent_traces(4, failing=lambda trace: False)[::-1]
    rows.append(span(9, 0, start=BASE, span_type="tool", tool_name="login",
                     tool_arguments='{"password": "hunter2-secret-value"}'))
    insert_spans(store, rows)

    snapshot = _snapshot_rows(create_run(store, no_llm=True))

    assert sorted((row[1], row[2]) for row in snapshot) == sorted((row["trace_id"], row["span_id"]) for row in rows)
    assert not any("hunter2" in (row[3] or "") for row in snapshot)
    assert any("[REDACTED]" in (row[3] or "") for row in snapshot)


def test_a_trace_cut_by_the_limit_keeps_its_earliest_spans(store: Store) -> None:
    rows = [span(1, index, start=BASE + timedelta(seconds=10 - index), parent=None if index == 0 else 0)
            for index in range(10)]
    insert_spans(store, rows)

    snapshot = _snapshot_rows(create_run(store, no_llm=True, span_limit=4))

    assert sorted(row[2] for row in snapshot) == [f"{1:04x}{index:012x}" for index in (6, 7, 8, 9)]


def test_the_limit_keeps_whole_traces_error_traces_first_then_the_newest(store: Store, tmp_path: Path) -> None:
    # Five traces of 4 spans, the oldest failing, and the newest of one span with a secret and JSON
    # attributes: a limit of 10 keeps the failing trace, then the newest ones while they fit (9 spans),
    # never part of a fourth.
    rows = agent_traces(5, failing=lambda trace: trace == 0)
    rows.append(span(9, 0, start=BASE + timedelta(minutes=9), span_type="tool", tool_name="login",
                     attributes='{"k": 1}', tool_arguments='{"password": "hunter2-secret-value"}'))
    insert_spans(store, rows)
    window = {"agent_uuid": AGENT_UUID, "window_start": BASE - timedelta(hours=1),
              "window_end": BASE + timedelta(hours=1)}
    with store.connect() as connection:
        connection.execute(redact.sql_macro())
        limited = snapshot.write_snapshot(connection, {**window, "span_limit": 10}, tmp_path / "limited.parquet")
        whole = snapshot.write_snapshot(connection, {**window, "span_limit": 21}, tmp_path / "whole.parquet")
        spans_types = [(name, str(kind)) for name, kind in zip(
            *(lambda relation: (relation.columns, relation.types))(connection.table("spans")), strict=True)]

    assert (limited.window_spans, limited.window_traces, limited.spans, limited.traces) == (21, 6, 9, 3)
    assert (whole.window_spans, whole.spans, whole.traces) == (21, 21, 6)
    with duckdb.connect() as connection:
        def read(name: str) -> tuple[list[tuple[object, ...]], list[tuple[str, str]]]:
            relation = connection.read_parquet(str(tmp_path / name))
            return relation.fetchall(), list(zip(relation.columns, map(str, relation.types), strict=True))

        (limited_rows, limited_types), (whole_rows, whole_types) = read("limited.parquet"), read("whole.parquet")
    assert sorted({str(row[0]) for row in limited_rows}) == [f"{trace:032x}" for trace in (0, 4, 9)]
    # the columns of spans, then the agent each span declares (what the detectors read, not the attributes)
    assert limited_types == whole_types == [*spans_types, ("declared_agent", "VARCHAR")]
    assert ("attributes", "JSON") in whole_types
    assert not any("hunter2" in str(row) for row in whole_rows + limited_rows)


def test_link_hosts_are_read_from_every_url_and_host_attribute_only() -> None:
    from halo_local.report import link_hosts

    attributes = [
        '{"url.full": "https://one.example/path", "http.method": "GET"}', '{"http.url": "http://two.example"}',
        '{"url.original": "https://three.example"}', '{"server.address": "four.example"}',
        '{"net.peer.name": "five.example"}', '{"http.host": "six.example"}', '{"url.domain": "seven.example"}',
        '{"net.host.name": "eight.example"}',
        '{"url": {"full": "https://nested.example"}}', '{"input.value": "see \\"url.full\\": https://text.example"}',
        '{"a": {"server.address": "deep.example"}}', None]
    with duckdb.connect() as connection:
        connection.execute("CREATE TABLE window_spans AS SELECT unnest($values::JSON[]) AS attributes",
                           {"values": attributes})
        hosts = link_hosts(connection)
    assert hosts == {f"{name}.example" for name in ("one", "two", "three", "four", "five", "six", "seven", "eight")}


def test_the_previous_window_keeps_only_what_the_comparisons_read_with_the_same_findings(
        store: Store, tmp_path: Path) -> None:
    # The previous hour's tool calls all succeed, this hour's fail and are slower: a comparison the
    # detectors make with the previous window. Its narrow file must give what the whole rows give.
    before = BASE - timedelta(hours=1)
    insert_spans(store, agent_traces(6, first=0, start=before, failing=lambda trace: False))
    insert_spans(store, agent_traces(6, first=10, failing=lambda trace: True))
    window = {"agent_uuid": AGENT_UUID, "window_start": BASE - timedelta(minutes=30),
              "window_end": BASE + timedelta(minutes=30), "span_limit": 100}
    previous = {**window, "window_start": before - timedelta(minutes=30), "window_end": before + timedelta(minutes=30)}
    with store.connect() as connection:
        connection.execute(redact.sql_macro())
        snapshot.write_snapshot(connection, window, tmp_path / "window.parquet")
        whole = snapshot.write_snapshot(connection, previous, tmp_path / "whole.parquet")
        narrow = snapshot.write_snapshot(connection, previous, tmp_path / "narrow.parquet", comparison_only=True)

    assert whole == narrow and narrow.spans == 24
    with duckdb.connect() as connection:
        connection.read_parquet(str(tmp_path / "window.parquet")).create_view("window_spans")
        analyses = {}
        for name in ("whole", "narrow"):
            connection.read_parquet(str(tmp_path / f"{name}.parquet")).create_view(f"previous_{name}")
            analyses[name] = heuristics.analyze(connection, agent_uuid=AGENT_UUID, table="window_spans",
                                                previous_table=f"previous_{name}")
        columns = connection.execute("SELECT * FROM previous_narrow LIMIT 0").description
    findings = {name: [item.to_json() for item in analysis.findings] for name, analysis in analyses.items()}
    assert findings["narrow"] == findings["whole"]
    assert any(item.get("baseline") == 0.0 for item in findings["narrow"])  # the previous failure rate
    assert len(columns) == 12
