"""The read-only span sandbox: what it answers, what it refuses, and that refusing leaves data intact."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from fake_anthropic import SCHEMA_SQL, write_spans_parquet

from halo_local.errors import NotFoundError
from halo_local.sandbox import SandboxError, SpanSandbox

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
OTHER_TRACE = "0af7651916cd43dd8448eb211c80319c"
T0 = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z in ns

SPANS = [
    {"trace_id": TRACE, "span_id": "00f067aa0ba902b7", "name": "invoke_agent planner", "span_type": "agent",
     "start_ns": T0, "duration_ms": 4200.0, "status_code": "ok"},
    {"trace_id": TRACE, "span_id": "1111111111111111", "parent_span_id": "00f067aa0ba902b7", "name": "chat claude",
     "span_type": "llm", "start_ns": T0 + 1_000_000, "duration_ms": 1500.0, "model": "claude-sonnet-4-5",
     "input_tokens": 1200, "output_tokens": 300, "finish_reason": "tool_use", "provider": "anthropic"},
    {"trace_id": TRACE, "span_id": "2222222222222222", "parent_span_id": "1111111111111111", "name": "execute_tool search",
     "span_type": "tool", "start_ns": T0 + 2_000_000_000, "duration_ms": 800.0, "tool_name": "search",
     "status_code": "error", "error_type": "ValueError", "error_message": "Quota Exceeded for index",
     "attributes": '{"retry.count": 3, "db.statement": "select needle_in_attributes"}'},
    {"trace_id": OTHER_TRACE, "span_id": "3333333333333333", "name": "invoke_agent planner", "span_type": "agent",
     "start_ns": T0 + 10_000_000_000, "duration_ms": None},
]


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_spans_parquet(tmp_path_factory.mktemp("snapshot") / "snapshot.parquet", SPANS)


@pytest.fixture(scope="module")
def sandbox(snapshot: Path) -> Iterator[SpanSandbox]:
    """One sandbox (one process) for the tests that only read: every query is rolled back."""
    with SpanSandbox.from_parquet(snapshot) as box:
        yield box


def test_select_returns_rows_and_columns(sandbox: SpanSandbox) -> None:
    result = sandbox.query("SELECT span_type, count(*) AS n FROM spans GROUP BY ALL ORDER BY span_type")
    assert result.columns == ("span_type", "n")
    assert result.rows == (("agent", 2), ("llm", 1), ("tool", 1))
    assert not result.truncated
    assert result.to_text().splitlines()[0] == "span_type | n"
    assert result.to_json()["rows"][0] == ["agent", 2]


def test_with_describe_summarize_and_explain_are_read_statements(sandbox: SpanSandbox) -> None:
    assert sandbox.query("WITH t AS (SELECT DISTINCT trace_id FROM spans) SELECT count(*) FROM t").rows == ((2,),)
    assert "trace_id" in sandbox.query("DESCRIBE spans").to_text()
    assert sandbox.query("SUMMARIZE spans").rows
    assert sandbox.query("EXPLAIN SELECT * FROM spans").rows


def test_rows_are_capped(sandbox: SpanSandbox) -> None:
    result = sandbox.query("SELECT * FROM range(1000)", max_rows=5)
    assert len(result.rows) == 5
    assert result.truncated
    assert "more" in result.to_text().splitlines()[-1]


@pytest.mark.parametrize(("sql", "expected"), [
    ("SELECT i FROM range(3000000) t(i) WHERE i % 100000 = 7", 30),
    ("SELECT i % 3000 AS g, count(*) AS n FROM range(3000000) t(i) GROUP BY g", 3000),  # 1475 came back before
    ("SELECT DISTINCT i % 150 AS d FROM range(3000000) t(i)", 150),  # 74 came back before
    ("SELECT span_id, i FROM spans, range(200000) t(i) WHERE i % 20000 = 3", 40),
])
def test_results_spread_over_many_arrow_batches_come_back_whole(sandbox: SpanSandbox, sql: str, expected: int) -> None:
    result = sandbox.query(sql, max_rows=5000, max_chars=10_000_000)
    assert len(result.rows) == len(set(result.rows)) == expected and not result.truncated


def test_the_row_cap_is_decided_after_reading_every_batch_it_needs(sandbox: SpanSandbox) -> None:
    sql = "SELECT i % 3000 AS g, count(*) AS n FROM range(3000000) t(i) GROUP BY g"
    exact = sandbox.query(sql, max_rows=3000, max_chars=10_000_000)
    assert len(exact.rows) == 3000 and not exact.truncated and sum(row[1] for row in exact.rows) == 3000000
    cut = sandbox.query(sql, max_rows=2999, max_chars=10_000_000)
    assert len(cut.rows) == 2999 and cut.truncated


def test_characters_are_capped(sandbox: SpanSandbox) -> None:
    result = sandbox.query("SELECT repeat('x', 500) AS blob FROM range(100)", max_chars=3000)
    assert len(result.to_text()) <= 3000
    assert result.truncated
    assert 0 < len(result.rows) < 100


def test_long_cells_are_cut_with_a_count(sandbox: SpanSandbox) -> None:
    text = sandbox.query("SELECT repeat('y', 5000) AS blob").to_text()
    assert "…[+3000 chars]" in text


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_text('/etc/hostname')",
        "SELECT * FROM 'https://example.com/data.csv'",
        "COPY spans TO '/tmp/halo-sandbox-leak.csv'",
        "ATTACH '/tmp/halo-sandbox.duckdb' AS other",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET enable_external_access = true",
        "RESET lock_configuration",
        "PRAGMA table_info('spans')",
        "DELETE FROM spans",
        "UPDATE spans SET name = 'x'",
        "INSERT INTO spans SELECT * FROM spans",
        "DROP TABLE spans",
        "CREATE TABLE copy AS SELECT * FROM spans",
        "CALL pragma_version()",
        "SELECT 1; DELETE FROM spans",
        "EXPORT DATABASE '/tmp/halo-sandbox-export'",
        "EXPLAIN ANALYZE COMMIT",
        "EXPLAIN ANALYZE ROLLBACK",
        "EXPLAIN ANALYZE DELETE FROM spans",
        "EXPLAIN (FORMAT json) CREATE TABLE copy AS SELECT * FROM spans",
        "SELECT FROM WHERE",
        "",
    ],
)
def test_refused_statements_raise_a_clean_error(sandbox: SpanSandbox, sql: str) -> None:
    with pytest.raises(SandboxError) as caught:
        sandbox.query(sql)
    assert caught.value.message
    assert sandbox.query("SELECT count(*) FROM spans").rows == ((4,),)
    assert not Path("/tmp/halo-sandbox-leak.csv").exists()


def test_a_refusal_names_the_statement_as_written(sandbox: SpanSandbox) -> None:
    with pytest.raises(SandboxError, match="^INSTALL and LOAD statements are not allowed"):
        sandbox.query("INSTALL httpfs")
    with pytest.raises(SandboxError, match="^DELETE statements are not allowed"):
        sandbox.query("DELETE FROM spans")


def test_file_reads_are_refused_even_for_the_snapshot_itself(sandbox: SpanSandbox, snapshot: Path) -> None:
    with pytest.raises(SandboxError, match="disabled by configuration"):
        sandbox.query(f"SELECT * FROM read_parquet('{snapshot}')")


def test_data_modifying_cte_is_rolled_back(sandbox: SpanSandbox) -> None:
    deleted = sandbox.query("WITH gone AS (DELETE FROM spans RETURNING span_id) SELECT count(*) FROM gone")
    assert deleted.rows == ((4,),)
    assert sandbox.query("SELECT count(*) FROM spans").rows == ((4,),)


def test_slow_queries_are_interrupted(snapshot: Path) -> None:
    with SpanSandbox.from_parquet(snapshot, time_limit_seconds=0.3) as box:
        started = time.monotonic()
        with pytest.raises(SandboxError, match="time limit of 0.3 s"):
            box.query("SELECT count(*) FROM range(1000000000000) a")
        assert time.monotonic() - started < 60  # it stopped: unstopped, the query would run for hours
        assert box.query("SELECT count(*) FROM spans").rows == ((4,),)


def test_view_trace_is_an_indented_tree(sandbox: SpanSandbox) -> None:
    text = sandbox.view_trace(TRACE.upper())
    lines = text.splitlines()
    assert lines[0].startswith(f"trace {TRACE}: 3 spans, 1 errors")
    assert lines[1].startswith("- invoke_agent planner [agent]  span 00f067aa0ba902b7  4.20s  ok")
    assert lines[2].startswith("  - chat claude [llm]")
    assert "model=claude-sonnet-4-5" in lines[2] and "tokens=1200in/300out" in lines[2]
    assert lines[3].startswith("    - execute_tool search [tool]")
    assert "ERROR" in lines[3] and "tool=search" in lines[3] and "error=ValueError Quota Exceeded" in lines[3]


def test_view_trace_of_an_unknown_trace_is_not_found(sandbox: SpanSandbox) -> None:
    with pytest.raises(NotFoundError):
        sandbox.view_trace("ffffffffffffffffffffffffffffffff")


def test_span_detail_shows_raw_attributes(sandbox: SpanSandbox) -> None:
    text = sandbox.span_detail("2222222222222222")
    assert "error_message: Quota Exceeded for index" in text
    assert "needle_in_attributes" in text
    assert "source_file" not in text


def test_search_spans_matches_any_text_field_case_insensitively(sandbox: SpanSandbox) -> None:
    result = sandbox.search_spans("QUOTA exceeded")
    assert [row[1] for row in result.rows] == ["2222222222222222"]
    assert result.columns[-2:] == ("matched_field", "snippet")
    assert result.rows[0][-2] == "error_message"
    assert sandbox.search_spans("needle_in_attributes").rows[0][-2] == "attributes"
    assert len(sandbox.search_spans("planner", limit=1).rows) == 1
    assert sandbox.search_spans("planner", limit=1).truncated
    assert sandbox.search_spans("no such text anywhere").rows == ()


def test_known_ids_tells_traces_from_spans(sandbox: SpanSandbox) -> None:
    traces, spans = sandbox.known_ids([TRACE, "1111111111111111", "deadbeefdeadbeef"])
    assert traces == {TRACE}
    assert spans == {"1111111111111111"}


def test_from_database_copies_spans_and_releases_the_file(tmp_path: Path, snapshot: Path) -> None:
    db_path = tmp_path / "halo.duckdb"
    with duckdb.connect(str(db_path)) as connection:
        connection.execute(SCHEMA_SQL.read_text(encoding="utf-8"))
        connection.execute("INSERT INTO spans SELECT * FROM read_parquet($path)", {"path": str(snapshot)})
    with SpanSandbox.from_database(db_path) as box:
        assert box.query("SELECT count(*) FROM spans").rows == ((4,),)
        writer = duckdb.connect(str(db_path))  # would fail if the sandbox still held the file
        writer.execute("DELETE FROM spans")
        writer.close()
        assert box.query("SELECT count(*) FROM spans").rows == ((4,),)


def test_unreadable_inputs_are_clean_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet at all")
    with pytest.raises(SandboxError, match="cannot be read"):
        SpanSandbox.from_parquet(broken)
    with pytest.raises(NotFoundError):
        SpanSandbox.from_parquet(tmp_path / "missing.parquet")
    empty_db = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty_db)).close()
    with pytest.raises(NotFoundError, match="no spans yet"):
        SpanSandbox.from_database(empty_db)


def test_explain_of_a_select_still_works(sandbox: SpanSandbox) -> None:
    assert sandbox.query("EXPLAIN ANALYZE SELECT count(*) FROM spans").rows
    assert sandbox.query("explain (format json) select 1").rows


def test_a_result_too_large_to_convert_is_refused_before_it_becomes_python(snapshot: Path) -> None:
    # The size cap is under test, not the time limit, which a loaded machine could reach first.
    with SpanSandbox.from_parquet(snapshot, time_limit_seconds=600) as sandbox:
        with pytest.raises(SandboxError) as refused:
            sandbox.query("SELECT range(3000000) AS r")
        assert refused.value.message.startswith("the result is too large to show")
        assert sandbox.query("SELECT len(range(3000000)) AS n").rows == ((3000000,),)


def test_values_keep_the_types_duckdb_returns(sandbox: SpanSandbox) -> None:
    (row,) = sandbox.query("SELECT sum(1) AS total, map(['k'], ['v']) AS m, 1.5::DECIMAL(4, 2) AS d").rows
    assert row == (1, {"k": "v"}, Decimal("1.50"))
