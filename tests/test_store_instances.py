"""The store's connections are cursors of an in-memory DuckDB instance with the database file attached
(`halo_local.store._SharedInstances`): the file must be locked exactly while one is open, each $HALO_HOME
must spill into its own folder, and an instance that spilled must take its spill files with it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from halo_local.store import MEMORY_LIMIT_ENV, Store

HOLDS_LOCK = "import duckdb, sys\ntry:\n    duckdb.connect(sys.argv[1]).close()\nexcept duckdb.IOException:\n    sys.exit(3)"


def _other_process_can_open(store: Store) -> bool:
    done = subprocess.run([sys.executable, "-c", HOLDS_LOCK, str(store.db_path)], capture_output=True, timeout=120)
    assert done.returncode in (0, 3), done.stderr
    return done.returncode == 0


def test_the_file_is_locked_while_a_connection_is_open_and_only_then(tmp_path: Path) -> None:
    first, second = Store(tmp_path / "first"), Store(tmp_path / "second")
    with first.connect() as connection:
        connection.execute("CREATE TABLE held (n INTEGER)")
        with first.connect() as nested, second.connect() as other:  # the same file; a second home beside it
            nested.execute("INSERT INTO held VALUES (1)")
            assert other.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'held'").fetchall() == [(0,)]
        assert connection.execute("SELECT n FROM held").fetchall() == [(1,)]
        assert not _other_process_can_open(first)
        assert _other_process_can_open(second)
    assert _other_process_can_open(first)
    with first.connect() as connection:
        assert connection.execute("SELECT n FROM held").fetchall() == [(1,)]


def test_a_home_that_spilled_loses_its_spill_files_and_the_next_home_spills_into_its_own(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "48MB")
    for name in ("first", "second"):
        store = Store(tmp_path / name)
        with store.connect() as connection:
            connection.execute("SET threads = 1")
            rows = connection.execute("SELECT count(*) FROM (SELECT md5(range::VARCHAR) AS text FROM range(1000000) "
                                      "ORDER BY text)").fetchall()
            assert rows == [(1_000_000,)]
            assert (store.home / "tmp").is_dir(), "the sort did not spill: the test shows nothing"
        assert not (store.home / "tmp").exists()
