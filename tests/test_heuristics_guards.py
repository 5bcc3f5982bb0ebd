"""The set-up's guards leave out work, never findings: a detector or set-up table left out for a
window (its input has no rows) must not have found anything there, and a table made empty from its
statement's DESCRIBE must have the columns of one built."""

from __future__ import annotations

import json
from typing import Any

import pytest

from halo_local.config import Thresholds
from halo_local.heuristics import analysis
from halo_local.heuristics.registry import CATEGORIES
from tests.heuristics_support import AGENT, Spans, healthy_trace


def _windows() -> dict[str, Spans]:
    """Windows that each leave out different work: all fine, no model output, failures of each kind,
    facts stated, assumed data, a give-up, enough traces for the norms."""
    quiet = Spans()
    for index in range(12):
        healthy_trace(quiet, f"q{index}", start=index * 10_000.0)

    silent = Spans()
    root = silent.agent("s1")
    silent.llm("s1", parent=root, start=10, output_tokens=0)
    silent.tool("s1", "search", parent=root, start=1200)

    failing = Spans()
    for index in range(3):
        trace = f"f{index}"
        root = failing.agent(trace, start=index * 10_000.0, status="error", error_message="tool failed")
        failing.llm(trace, parent=root, start=index * 10_000.0 + 10, finish_reason="length",
                    output_text="I cannot browse the web, so the answer is 1,250 units of \"Acme Widget\".")
        failing.tool(trace, "search", parent=root, start=index * 10_000.0 + 900, status="error",
                     error_type="RateLimitError", error_message="429 Too Many Requests")
        failing.tool(trace, "fetch", parent=root, start=index * 10_000.0 + 1200, status="error",
                     error_type="ValueError", error_message="invalid argument 'url'")
        failing.tool(trace, "lookup", parent=root, start=index * 10_000.0 + 1500,
                     tool_result="Error: unknown tool lookup", tool_arguments='{"q": 1}')
        failing.llm(trace, parent=root, start=index * 10_000.0 + 2000,
                    output_text="Let's assume the data is hypothetical. I am unable to complete the task.")
    return {"quiet": quiet, "silent": silent, "failing": failing}


def _result(spans: Spans) -> Any:
    with spans.connect() as connection:
        found = analysis.analyze(connection, agent_uuid=AGENT, table="spans")
    return json.loads(json.dumps({
        "findings": [finding.to_json() for finding in found.findings],
        "checks": [check.to_json() for check in found.checks],
        "stats": found.stats,
        "outcomes": found.outcomes,
    }, default=str, sort_keys=True))


@pytest.mark.parametrize("name", ["quiet", "silent", "failing"])
def test_guards_change_no_result(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    spans = _windows()[name]
    guarded = _result(spans)
    assert _result(spans) == guarded  # again, with the empty tables' shapes remembered

    monkeypatch.setattr(analysis, "_leave_out", lambda set_up, flags: None)
    monkeypatch.setattr(analysis, "_applicable", lambda connection, skipped, parameters: list(CATEGORIES))
    assert _result(spans) == guarded


def test_guards_leave_work_out_of_quiet_windows() -> None:
    with _windows()["quiet"].connect() as connection:
        skipped = analysis._prepare(connection, agent_uuid=AGENT, table="spans", previous_table=None,
                                    parameters=Thresholds().as_parameters())
        try:
            applicable = analysis._applicable(connection, skipped, Thresholds().as_parameters())
        finally:
            analysis._cleanup(connection)
    assert {"halo_h_attribution", "halo_h_failure_groups", "halo_h_retried_groups"} <= skipped
    assert not {"error", "tool_error", "rate_limit", "timeout", "stall", "gave_up"} & set(applicable)
    # alike durations and costs, no repeats, clean spans: no part of these can find anything
    assert not {"latency", "cost", "loop", "data_quality"} & set(applicable)
    assert {"long_run", "excessive_steps"} <= set(applicable)


def _columns(connection: Any, table: str) -> list[tuple[str, str]]:
    return connection.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = 'temp' AND table_name = $table"
        " ORDER BY column_index", {"table": table}).fetchall()


def test_an_empty_table_has_the_columns_of_a_built_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh process makes the empty tables from their statements' DESCRIBE, without building them."""
    monkeypatch.setattr(analysis, "_SHAPES", {})
    executed: list[str] = []
    execute = analysis._execute
    monkeypatch.setattr(analysis, "_execute", lambda connection, sql, parameters: (
        executed.append(sql), execute(connection, sql, parameters))[1])
    parameters = Thresholds().as_parameters()
    shapes = []
    with _windows()["silent"].connect() as connection:
        for guarded in (True, False):  # made empty (nothing remembered yet), then built
            if not guarded:
                monkeypatch.setattr(analysis, "_leave_out", lambda set_up, flags: None)
            analysis._prepare(connection, agent_uuid=AGENT, table="spans", previous_table=None, parameters=parameters)
            try:
                shapes.append({table: (_columns(connection, table),
                                       connection.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
                               for table in analysis._EMPTY_UNLESS})
            finally:
                analysis._cleanup(connection)
            if guarded:
                assert len(analysis._SHAPES) == len(analysis._EMPTY_UNLESS)
                assert not {table for table in analysis._EMPTY_UNLESS
                            if any(analysis._created_table(sql) == table for sql in executed)}
    assert shapes[0] == shapes[1]
    assert all(columns and rows == 0 for columns, rows in shapes[0].values())
