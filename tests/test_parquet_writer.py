"""Several DuckDB results into one Parquet file, in order, by a writer thread: the rows in the order
given, row groups of the set size, JSON typed JSON, and a failure on either side raised, not hung."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from halo_local.runs import parquet_writer


def test_relations_are_written_one_after_another_in_row_groups(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parquet_writer, "ROW_GROUP_ROWS", 1000)
    monkeypatch.setattr(parquet_writer, "_BATCH_ROWS", 300)
    path = tmp_path / "out.parquet"
    with duckdb.connect() as connection:
        relations = (connection.sql(f"SELECT i, json_object('i', i) AS doc FROM range({start}, {start} + 1500) AS r(i)"
                                    " ORDER BY i DESC")
                     for start in (0, 5000))
        written = parquet_writer.write_parquet_in_order(relations, path)
        rows = connection.execute("SELECT i FROM read_parquet($path)", {"path": str(path)}).fetchall()
        doc_type = connection.execute("SELECT typeof(doc) FROM read_parquet($path) LIMIT 1",
                                      {"path": str(path)}).fetchall()[0][0]
        groups = connection.execute("SELECT list(DISTINCT row_group_num_rows ORDER BY row_group_num_rows)"
                                    " FROM parquet_metadata($path)", {"path": str(path)}).fetchall()[0][0]
    assert written == 3000
    assert [row[0] for row in rows] == list(range(1499, -1, -1)) + list(range(6499, 4999, -1))
    assert doc_type == "JSON"
    assert groups == [1000]


def test_a_failing_relation_is_raised_and_the_writer_stops(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parquet_writer, "_BATCH_ROWS", 100)
    with duckdb.connect() as connection:
        relations = [connection.sql("SELECT i FROM range(1000) AS r(i)"),
                     connection.sql("SELECT CASE WHEN i = 700 THEN error('boom') ELSE i END AS i FROM range(1000) AS r(i)")]
        with pytest.raises(duckdb.Error, match="boom"):
            parquet_writer.write_parquet_in_order(relations, tmp_path / "out.parquet")


def test_a_failing_writer_is_raised_and_stops_the_relations(tmp_path: Path) -> None:
    with duckdb.connect() as connection:
        relations = [connection.sql("SELECT i FROM range(100000) AS r(i)")]
        with pytest.raises(OSError):
            parquet_writer.write_parquet_in_order(relations, tmp_path / "missing" / "out.parquet")
