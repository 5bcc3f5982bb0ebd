"""Query results are complete through every door to the sandbox: `halo-local query` (a real process),
MCP `query_spans` and the LLM's `run_sql`.

DuckDB delivers DISTINCT, GROUP BY and parallel scans of a large table in many Arrow batches; reading
only the first one dropped rows at random and still said `truncated: false`. A million stored spans
make every one of these queries span many batches.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import duckdb
import pytest

from halo_local import traces
from halo_local.llm.tools import RUN_SQL, SpanTools
from halo_local.mcp_tools import QUERY_MAX_ROWS, HaloTools
from halo_local.sandbox import SpanSandbox
from halo_local.store import Store

SPAN_COUNT = 1_000_000
TRACE_COUNT = 10_000
NAME_COUNT = 150
T0 = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z in ns; a multiple of 100000
INSERT_SPANS = f"""
INSERT INTO spans (trace_id, span_id, name, kind, start_ns, end_ns, start_time, end_time, duration_ms,
                   status_code, span_type, agent_name)
SELECT printf('%032x', i // {SPAN_COUNT // TRACE_COUNT}), printf('%016x', i), 'op ' || (i % {NAME_COUNT}), 'internal',
       {T0} + i, {T0} + i + 1000, make_timestamp(({T0} + i) // 1000), make_timestamp(({T0} + i) // 1000),
       0.001, 'ok', 'tool', 'agent'
FROM range({SPAN_COUNT}) t(i)
"""
SCATTERED_ROWS = "SELECT span_id FROM spans WHERE start_ns % 100000 = 7"  # 10 rows, one per 100,000 spans
SMALL_GROUP_BY = "SELECT name, count(*) AS n FROM spans GROUP BY name"  # 150 groups: under every row cap
LARGE_GROUP_BY = "SELECT trace_id, count(*) AS n FROM spans GROUP BY trace_id"  # 10,000 groups
DISTINCT_TRACES = "SELECT DISTINCT trace_id FROM spans WHERE span_id LIKE '%07'"  # thousands of traces


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with a million stored spans (generated: no trace file is read) and a run-style snapshot."""
    home = tmp_path_factory.mktemp("doors") / "home"
    store = Store(home)
    with store.connect() as connection:
        connection.execute(INSERT_SPANS)
        connection.execute("COPY spans TO $path (FORMAT parquet)", {"path": str(home / "snapshot.parquet")})
    return home


def _expected(home: Path, sql: str) -> set[tuple[Any, ...]]:
    """The complete answer, from plain DuckDB reading the same database."""
    with duckdb.connect(str(home / "halo.duckdb"), read_only=True) as connection:
        return set(connection.execute(sql).fetchall())


def test_the_cli_returns_every_row_of_a_many_batch_result(home: Path) -> None:
    """One real `halo-local query` process (each loads the million spans into its own sandbox: ~2 CPU-s); the
    other many-batch shapes go through the MCP tools' sandbox below, which `halo-local query` builds alike."""
    expected = _expected(home, SCATTERED_ROWS)
    done = subprocess.run([sys.executable, "-m", "halo_local", "query", SCATTERED_ROWS, "--limit", "20000", "--json"],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "HALO_HOME": str(home)})
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert len(document["rows"]) == len(expected) and document["truncated"] is False
    assert {tuple(row) for row in document["rows"]} == expected


def test_mcp_query_spans_returns_every_row_or_says_it_cut(home: Path) -> None:
    tools = HaloTools(Store(home))
    try:
        for sql in (SCATTERED_ROWS, SMALL_GROUP_BY):
            document = json.loads(anyio.run(tools.query_spans, sql))
            assert {tuple(row) for row in document["rows"]} == _expected(home, sql)
            assert document["rowCount"] == len(document["rows"]) and document["truncated"] is False
        for sql in (LARGE_GROUP_BY, DISTINCT_TRACES):
            document = json.loads(anyio.run(tools.query_spans, sql))
            assert document["rowCount"] == QUERY_MAX_ROWS and document["truncated"] is True
            assert {tuple(row) for row in document["rows"]} <= _expected(home, sql)
            with tools.sandboxes.sandbox() as sandbox:  # as `halo-local query SQL --limit 20000` asks it
                whole = sandbox.query(sql, max_rows=20000, max_chars=traces.QUERY_MAX_CHARS)
            assert set(whole.rows) == _expected(home, sql) and whole.truncated is False
            assert len(whole.rows) == len(_expected(home, sql))
    finally:
        tools.sandboxes.close()


def test_the_llm_run_sql_tool_returns_every_row_or_says_it_cut(home: Path) -> None:
    with SpanSandbox.from_parquet(home / "snapshot.parquet") as sandbox:
        tools = SpanTools(sandbox)
        for sql in (SCATTERED_ROWS, SMALL_GROUP_BY):
            expected = _expected(home, sql)
            output = tools.run(RUN_SQL, {"sql": sql})
            assert not output.is_error and output.rows == len(expected)
            lines = output.text.splitlines()
            assert lines[-1] == f"({len(expected)} rows)"
            assert {tuple(line.split(" | ")) for line in lines[1:-1]} == {
                tuple(str(value) for value in row) for row in expected}
        output = tools.run(RUN_SQL, {"sql": LARGE_GROUP_BY})
        assert output.rows == 200 and "the query returned more" in output.text.splitlines()[-1]
