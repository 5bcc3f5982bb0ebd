"""The snapshot's rows: in start order, redacted, a trace over the limit cut to its earliest spans;
and the link hosts the report reads from it.

The snapshot sorts the kept spans' keys once and writes the redacted rows a chunk at a time, each
sorted (sql/runs/snapshot*.sql, halo_local/runs/parquet_writer.py); these pin what that order of
work must keep."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from runs_support import AGENT_UUID, BASE, agent_traces, create_run, insert_spans, span

from halo_local import redact
from halo_local.runs import parquet_writer, snapshot
from halo_local.store import Store


def _snapshot_rows(run: dict) -> list[tuple]:
    with duckdb.connect() as connection:
        return connection.execute(
            "SELECT start_ns, trace_id, span_id, tool_arguments FROM read_parquet($path)",
            {"path": run["traceDataset"]["path"]}).fetchall()


def test_snapshot_rows_are_in_start_order_and_redacted(store: Store) -> None:
    # Traces inserted newest first, and spans sharing a start: the order comes from the sort alone.
    rows = agent_traces(4, failing=lambda trace: False)[::-1]
    rows.append(span(9, 0, start=BASE, span_type="tool", tool_name="login",
                     tool_arguments='{"password": "hunter2-secret-value"}'))
    insert_spans(store, rows)

    snapshot = _snapshot_rows(create_run(store, no_llm=True))

    assert len(snapshot) == 17
    assert [row[:3] for row in snapshot] == sorted(row[:3] for row in snapshot)
    assert not any("hunter2" in (row[3] or "") for row in snapshot)
    assert any("[REDACTED]" in (row[3] or "") for row in snapshot)


def test_a_trace_cut_by_the_limit_keeps_its_earliest_spans(store: Store) -> None:
    rows = [span(1, index, start=BASE + timedelta(seconds=10 - index), parent=None if index == 0 else 0)
            for index in range(10)]
    insert_spans(store, rows)

    snapshot = _snapshot_rows(create_run(store, no_llm=True, span_limit=4))

    assert [row[2] for row in snapshot] == [f"{1:04x}{index:012x}" for index in (9, 8, 7, 6)]


def test_a_snapshot_written_in_chunks_is_the_one_chunk_snapshot(store: Store, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # Spans sharing a start across traces, a secret and JSON columns: chunks of 2 spans and row groups of 3
    # rows must give the same rows in the same order with the same types as one chunk.
    rows = agent_traces(4, failing=lambda trace: trace == 1)[::-1]
    rows.append(span(9, 0, start=BASE, span_type="tool", tool_name="login", attributes='{"k": 1}',
                     tool_arguments='{"password": "hunter2-secret-value"}'))
    insert_spans(store, rows)
    monkeypatch.setattr(parquet_writer, "ROW_GROUP_ROWS", 3)
    params = {"agent_uuid": AGENT_UUID, "window_start": BASE - timedelta(hours=1),
              "window_end": BASE + timedelta(hours=1), "span_limit": 17}
    with store.connect() as connection:
        connection.execute(redact.sql_macro())
        whole = snapshot.write_snapshot(connection, params, tmp_path / "whole.parquet", chunk_spans=1000)
        chunked = snapshot.write_snapshot(connection, params, tmp_path / "chunked.parquet", chunk_spans=2)

    assert whole == chunked
    assert (chunked.window_spans, chunked.spans, chunked.traces) == (17, 17, 5)
    with duckdb.connect() as connection:
        def read(name: str) -> tuple[list[tuple[object, ...]], list[tuple[str, str]]]:
            relation = connection.read_parquet(str(tmp_path / name))
            return relation.fetchall(), list(zip(relation.columns, map(str, relation.types), strict=True))

        (whole_rows, whole_types), (chunked_rows, chunked_types) = read("whole.parquet"), read("chunked.parquet")
        groups = connection.execute("SELECT count(DISTINCT row_group_id) FROM parquet_metadata($path)",
                                    {"path": str(tmp_path / "chunked.parquet")}).fetchall()[0][0]
    assert chunked_rows == whole_rows and chunked_types == whole_types
    assert ("attributes", "JSON") in chunked_types
    assert groups == 6
    assert not any("hunter2" in str(row) for row in chunked_rows)


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
