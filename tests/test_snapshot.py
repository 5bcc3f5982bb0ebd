"""The snapshot's rows: in start order, redacted, a trace over the limit cut to its earliest spans;
and the link hosts the report reads from it.

The snapshot query redacts in its scan and sorts once (sql/runs/snapshot.sql); these pin what
that order of work must keep."""

from __future__ import annotations

from datetime import timedelta

import duckdb
from runs_support import BASE, agent_traces, create_run, insert_spans, span

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
