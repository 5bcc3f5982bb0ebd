"""The private in-memory databases that loading parses and normalizes in, and their reuse.

Creating one costs ~22 ms of CPU (DuckDB registers its whole function catalog) and installing the readers'
macros ~19 ms more: more than reading a small file. So a database that read a file without error is kept
for the next one: per `load_paths` call for the one-pass loads (a `SharedDatabases` closed at its end),
and per process for the files read whole and the groups of small files (`reused_database`). After any
error it is closed instead, so that nothing a failed read left in it can reach the next file.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import duckdb

from halo_local.ingest.limits import ATTRIBUTE_VALUE_LIMIT_ENV, DEFAULT_ATTRIBUTE_VALUE_LIMIT, size_setting
from halo_local.resources import sql_text


def install_macros(connection: duckdb.DuckDBPyConnection) -> None:
    """Create the readers' TEMP macros on this connection, with the attribute value cap they apply."""
    connection.execute(sql_text("ingest/value_cap.sql"), {"cap": _value_cap()})
    for name in ("macros", "otlp_macros", "halo_macros"):
        connection.execute(sql_text(f"ingest/{name}.sql"))


def _value_cap() -> int:
    return size_setting(ATTRIBUTE_VALUE_LIMIT_ENV, DEFAULT_ATTRIBUTE_VALUE_LIMIT)


class SharedDatabases:
    """Idle private databases by role ("parser": with the readers' macros; "work": normalize's, which keeps
    its mapping tables) and settings, taken in turn; safe across threads."""

    def __init__(self) -> None:
        self._idle: dict[tuple[str, str], duckdb.DuckDBPyConnection] = {}
        self._lock = threading.Lock()

    def take(self, role: str, settings: dict[str, Any]) -> duckdb.DuckDBPyConnection:
        """The idle database of this role and settings, or a new one, prepared."""
        with self._lock:
            connection = self._idle.pop(self._key(role, settings), None)
        if connection is None:
            connection = duckdb.connect(config=settings)
            if role == "parser":
                install_macros(connection)
        return connection

    def give_back(self, role: str, settings: dict[str, Any], connection: duckdb.DuckDBPyConnection) -> None:
        """Keep `connection`, which the file just read without error, for the next file, without the rows
        of its last part or chunk (the mapping's tables stay in a work database)."""
        leftovers = ["raw_spans", "normalize_file_keys"] if role == "work" else [row[0] for row in connection.execute(
            "SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()]
        for table in leftovers:
            connection.execute(f"DROP TABLE IF EXISTS {table}")
        with self._lock:
            previous = self._idle.pop(self._key(role, settings), None)
            self._idle[self._key(role, settings)] = connection
        if previous is not None:
            previous.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = list(self._idle.values()), {}
        for connection in idle:
            connection.close()

    @staticmethod
    def _key(role: str, settings: dict[str, Any]) -> tuple[str, str]:
        """A parser's macros hold the value cap of when they were made: part of what it is taken by."""
        cap = _value_cap() if role == "parser" else None
        return role, repr((sorted(settings.items()), cap))


_PROCESS_DATABASES = SharedDatabases()


@contextmanager
def reused_database(settings: dict[str, Any]) -> Iterator[duckdb.DuckDBPyConnection]:
    """A parser database kept by this process: back to it when the block ends without an error, else closed."""
    database = _PROCESS_DATABASES.take("parser", settings)
    try:
        yield database
    except BaseException:
        database.close()
        raise
    _PROCESS_DATABASES.give_back("parser", settings, database)
