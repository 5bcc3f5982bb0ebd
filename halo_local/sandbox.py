"""Read-only SQL over a set of spans, safe to hand to an LLM (and to MCP clients).

The spans are copied into a private in-memory DuckDB that runs in a process of its own
(`sandbox_process.py`), after which it is locked down: no file or network access, no extension
loading, configuration frozen, and an address-space limit the kernel enforces. Only single
SELECT-like statements are accepted, each runs inside a transaction that is always rolled back
(DuckDB accepts data-modifying CTEs under a SELECT), each is interrupted at its time limit and its
process killed a second later if that is not enough, and results are capped in rows and characters
so one query cannot flood a prompt.
"""

from __future__ import annotations

import os
import random
import re
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import duckdb

from halo_local.errors import DatabaseBusyError, HaloLocalError, NotFoundError
from halo_local.redact import rules_fingerprint, sql_macro
from halo_local.resources import sql_template, sql_text
from halo_local.sandbox_process import (
    MEMORY_LIMIT_ENV,
    ChildFailure,
    SandboxProcess,
    memory_limit_bytes,
    size_text,
)
from halo_local.sandbox_text import QueryResult, cell_text, render_table, trace_tree_text

DEFAULT_TIME_LIMIT_SECONDS = 10.0
_ALLOWED_STATEMENTS = {"SELECT", "EXPLAIN"}
_EXPLAIN_PREFIX = re.compile(r"^\s*EXPLAIN\b\s*(?:ANALY[SZ]E\b\s*)?(?:\([^)]*\)\s*)?", re.IGNORECASE)
_LOCKDOWN = (
    "SET enable_external_access = false",
    "SET autoinstall_known_extensions = false",
    "SET autoload_known_extensions = false",
    "SET allow_community_extensions = false",
    # Results leave through Arrow (see `_rows_of`); lossless keeps every type as DuckDB returns it.
    "SET arrow_lossless_conversion = true",
    "SET lock_configuration = true",
)
MAX_RESULT_BYTES = 16 << 20
"""The most a query's shown rows may hold before they become Python values (outside the time limit)."""
MAX_INTERNAL_RESULT_BYTES = 64 << 20
"""The same for the tools' own queries (a trace tree, one span with its raw attributes)."""


class SandboxError(HaloLocalError):
    """A query the sandbox refused or could not finish; the message says why, for a human or a model."""


def _rows_of(payload: bytes) -> list[tuple[Any, ...]]:
    """The rows of an Arrow IPC stream from the sandbox process, as the Python values DuckDB itself returns."""
    if not payload:
        return []
    import pyarrow.ipc  # only a query's result needs Arrow: commands that never query start faster

    table = pyarrow.ipc.open_stream(payload).read_all()
    if table.num_rows == 0:
        return []
    converter = _arrow_converter().cursor()
    try:
        return converter.from_arrow(table).fetchall()
    finally:
        converter.close()


_converter: duckdb.DuckDBPyConnection | None = None
_converter_lock = threading.Lock()


def _arrow_converter() -> duckdb.DuckDBPyConnection:
    """One empty in-memory DuckDB per process that turns results into Python values: starting a DuckDB
    costs ~16 ms of CPU, a cursor on this one microseconds (an LLM pass converts one result per tool call)."""
    global _converter
    with _converter_lock:
        if _converter is None:
            _converter = duckdb.connect(config={"arrow_lossless_conversion": "true"})
        return _converter


class SpanSandbox:
    """A private, locked-down DuckDB holding one `spans` table, in its own process; every method is read-only.

    The process is started by the constructor and again, lazily, after a query had it killed: `load`
    fills each new one with the spans.
    """

    def __init__(self, load: Callable[[SandboxProcess], None], *, time_limit_seconds: float = DEFAULT_TIME_LIMIT_SECONDS,
                 memory_limit: int | str | None = None, lazy: bool = False) -> None:
        """Start the sandbox process and `load` the spans into it; `memory_limit` as `memory_limit_bytes` takes it.
        `lazy`: only at the first query, so that a user who never queries (an LLM pass that fails or ends
        before its first tool call) costs no process and no copy of the spans."""
        self._load = load
        self.time_limit_seconds = time_limit_seconds
        self.memory_limit_bytes = memory_limit_bytes(memory_limit)
        self._lock = threading.Lock()
        self._process: SandboxProcess | None = None
        self._closed = False
        if not lazy:
            with self._lock:
                self._running_process()

    @classmethod
    def from_parquet(cls, path: Path, *, time_limit_seconds: float = DEFAULT_TIME_LIMIT_SECONDS,
                     memory_limit: int | str | None = None, lazy: bool = False) -> SpanSandbox:
        """Load a run snapshot (Parquet with the `spans` columns, secrets already redacted as it was written);
        `lazy` as the constructor takes it."""
        if not Path(path).is_file():
            raise NotFoundError(f"span snapshot {path} does not exist")

        def load(process: SandboxProcess) -> None:
            try:
                _execute(process, "CREATE TABLE spans AS SELECT * FROM read_parquet($path)", {"path": str(path)})
            except ChildFailure as failure:
                if failure.kind != "duckdb":
                    raise
                raise SandboxError(f"span snapshot {path} cannot be read: {_first_line_block(failure.message)}") from None

        return cls(load, time_limit_seconds=time_limit_seconds, memory_limit=memory_limit, lazy=lazy)

    @classmethod
    def from_database(cls, db_path: Path, *, time_limit_seconds: float = DEFAULT_TIME_LIMIT_SECONDS,
                      memory_limit: int | str | None = None) -> SpanSandbox:
        """Copy `spans` out of a halo.duckdb, holding the file only while copying (read-only)."""
        if not Path(db_path).is_file():
            raise NotFoundError(f"database {db_path} does not exist", hint="load traces first: `halo-local traces load PATH`")

        def load(process: SandboxProcess) -> None:
            _attach_read_only(process, Path(db_path))
            try:
                _execute(process, sql_text("sandbox/unredacted_spans.sql"))
            except ChildFailure as failure:
                if failure.error_type != "CatalogException":
                    raise
                raise NotFoundError(f"database {db_path} holds no spans yet",
                                    hint="load traces first: `halo-local traces load PATH`") from None
            else:
                _copy_redacted(process)
            finally:
                _execute(process, "DETACH source")

        return cls(load, time_limit_seconds=time_limit_seconds, memory_limit=memory_limit)

    @property
    def process_id(self) -> int | None:
        """The pid of the sandbox process now running (None between a kill and the next query)."""
        process = self._process
        return process.pid if process is not None and process.alive() else None

    def interrupt(self) -> None:
        """Stop the query running now, from another thread (it ends with a SandboxError)."""
        process = self._process
        if process is not None:
            process.interrupt()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._process is not None:
                self._process.close()
                self._process = None

    def __enter__(self) -> SpanSandbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _running_process(self) -> SandboxProcess:
        """The sandbox process, started, loaded and locked down first when there is none (call under the lock)."""
        if self._closed:
            raise SandboxError("the sandbox is closed")
        if self._process is not None and self._process.alive():
            return self._process
        process = SandboxProcess()
        try:
            self._load(process)
            process.request({"op": "seal", "memoryBytes": self.memory_limit_bytes, "lockdown": list(_LOCKDOWN)},
                            deadline=None)
        except ChildFailure as failure:
            process.kill()
            raise SandboxError(f"the sandbox could not load the spans: {_first_line_block(failure.message)}") from None
        except BaseException:
            process.kill()
            raise
        self._process = process
        return process

    def _request(self, header: dict[str, Any], deadline: float) -> tuple[dict[str, Any], bytes]:
        """One request to the sandbox process (call under the lock); a limit it hit becomes a SandboxError."""
        process = self._running_process()
        try:
            return process.request(header, deadline=deadline)
        except ChildFailure as failure:
            if not process.alive():
                self._process = None  # the next query starts (and loads) a new one
            error = self._limit_error(failure)
            if error is None:
                raise
            raise error from None

    def _limit_error(self, failure: ChildFailure) -> SandboxError | None:
        """The SandboxError for a failure that is no fault of the statement's SQL text; None for a DuckDB error."""
        memory = size_text(self.memory_limit_bytes)
        if failure.kind == "time_limit":
            return SandboxError(
                f"the query exceeded the sandbox time limit of {self.time_limit_seconds:g} s and was stopped",
                hint="filter by trace_id, span_type or time first, or aggregate",
            )
        if failure.kind == "stopped":
            return SandboxError("the query was stopped before it finished")
        if failure.kind == "memory":
            return SandboxError(
                f"the query exceeded the sandbox memory limit of {memory}",
                hint=f"aggregate, filter first, or build shorter values; the limit is set by {MEMORY_LIMIT_ENV} "
                     "(or `query --memory-limit`)",
            )
        if failure.kind == "died":
            return SandboxError(f"the query ended the sandbox process: {failure.message}; it may have exceeded "
                                f"the sandbox memory limit of {memory}")
        if failure.kind == "too_large":
            return SandboxError(
                f"the result is too large to show ({(failure.size or 0) / (1 << 20):,.0f} MB in its first "
                f"{failure.rows} rows)",
                hint="aggregate, or select fewer and shorter values (len(), left(), list_slice())",
            )
        if failure.kind == "rollback":
            return SandboxError("the query tried to end the sandbox's transaction: the sandbox is read-only")
        return None

    def query(self, sql: str, *, max_rows: int = 200, max_chars: int = 20000) -> QueryResult:
        """Run one read-only statement over `spans`; SandboxError names what was refused and why."""
        with self._lock:
            self._running_process()
            deadline = time.monotonic() + self.time_limit_seconds
            statement = self._single_read_statement(sql, deadline)
            try:
                reply, payload = self._request({"op": "fetch", "sql": statement, "transaction": True,
                                                "maxRows": max_rows + 1, "maxBytes": MAX_RESULT_BYTES}, deadline)
            except ChildFailure as failure:
                raise SandboxError(f"the query failed: {_first_line_block(failure.message)}") from None
        columns = tuple(reply["columns"])
        fetched = _rows_of(payload)
        rows, truncated, text = render_table(columns, fetched[:max_rows], more_rows=len(fetched) > max_rows,
                                             max_chars=max_chars)
        return QueryResult(columns=columns, rows=rows, truncated=truncated, text=text)

    def _parsed(self, sql: str, deadline: float) -> list[tuple[str, str]]:
        """The statements in `sql` as (type name, text), parsed by the sandbox's DuckDB."""
        try:
            reply, _ = self._request({"op": "parse", "sql": sql}, deadline)
        except ChildFailure as failure:
            raise SandboxError(f"the query does not parse: {_first_line_block(failure.message)}") from None
        return [(kind, text) for kind, text in reply["statements"]]

    def _single_read_statement(self, sql: str, deadline: float) -> str:
        text = str(sql).strip()
        if not text:
            raise SandboxError("the query is empty")
        statements = self._parsed(text, deadline)
        if len(statements) != 1:
            raise SandboxError(f"send one statement at a time (got {len(statements)})")
        kind, statement = statements[0]
        explained = self._explained_statement(statement, deadline) if kind == "EXPLAIN" else None
        for checked in (kind, explained):
            if checked is not None and checked not in _ALLOWED_STATEMENTS:
                # DuckDB files INSTALL under LOAD: name both, so that "INSTALL httpfs" is not told "LOAD".
                shown = "INSTALL and LOAD" if checked == "LOAD" else checked
                raise SandboxError(
                    f"{shown} statements are not allowed: the sandbox is read-only",
                    hint="use SELECT (or WITH ... SELECT, DESCRIBE, SUMMARIZE, EXPLAIN) over the `spans` table",
                )
        return statement

    def _explained_statement(self, statement: str, deadline: float) -> str:
        """The type of statement an EXPLAIN shows: EXPLAIN ANALYZE runs it, so it must be allowed on its own."""
        inner = _EXPLAIN_PREFIX.sub("", statement, count=1)
        statements = self._parsed(inner, deadline)
        if len(statements) != 1 or inner == statement:
            raise SandboxError("EXPLAIN must be followed by one SELECT", hint="e.g. EXPLAIN SELECT count(*) FROM spans")
        return statements[0][0]

    def _internal(self, sql: str, parameters: dict[str, Any]) -> tuple[list[str], list[tuple[Any, ...]]]:
        with self._lock:
            self._running_process()
            deadline = time.monotonic() + self.time_limit_seconds
            reply, payload = self._request({"op": "fetch", "sql": sql, "params": parameters,
                                            "maxBytes": MAX_INTERNAL_RESULT_BYTES}, deadline)
        return list(reply["columns"]), _rows_of(payload)

    def view_trace(self, trace_id: str, *, max_spans: int = 300, max_chars: int = 20000) -> str:
        """The trace as an indented tree: type, duration, status, agent, model, tokens, tool, errors."""
        wanted = str(trace_id).strip().lower()
        columns, rows = self._internal(sql_text("sandbox/trace_tree.sql"), {"trace_id": wanted})
        if not rows:
            raise NotFoundError(f"no trace with id {wanted!r} in these spans")
        return trace_tree_text(wanted, [dict(zip(columns, row, strict=True)) for row in rows],
                               max_spans=max_spans, max_chars=max_chars)

    def span_detail(self, span_id: str, *, trace_id: str | None = None, max_chars: int = 20000) -> str:
        """Every column of one span, raw attributes and events included, one `name: value` per line."""
        wanted = str(span_id).strip().lower()
        columns, rows = self._internal(
            sql_text("sandbox/span_detail.sql"),
            {"span_id": wanted, "trace_id": str(trace_id).strip().lower() if trace_id else None},
        )
        if not rows:
            raise NotFoundError(f"no span with id {wanted!r} in these spans")
        if len(rows) > 1:
            traces = ", ".join(str(row[columns.index("trace_id")]) for row in rows)
            raise SandboxError(f"span id {wanted!r} occurs in several traces ({traces}); give the trace id too")
        lines = [f"{name}: {cell_text(value, limit=4000)}" for name, value in zip(columns, rows[0], strict=True) if value is not None]
        text = "\n".join(lines)
        if len(text) > max_chars:
            text = text[:max_chars] + "\n(cut to stay under the character limit)"
        return text

    def search_spans(self, text: str, *, limit: int = 20, max_chars: int = 20000) -> QueryResult:
        """Spans whose name, errors, tool I/O, messages or attributes contain `text` (case-insensitive)."""
        needle = str(text)
        if not needle.strip():
            raise SandboxError("give some text to search for")
        limit = max(1, min(int(limit), 200))
        columns, rows = self._internal(sql_text("sandbox/search_spans.sql"), {"needle": needle, "row_limit": limit + 1})
        kept, truncated, rendered = render_table(columns, rows[:limit], more_rows=len(rows) > limit, max_chars=max_chars)
        return QueryResult(columns=tuple(columns), rows=kept, truncated=truncated, text=rendered)

    def known_ids(self, ids: Sequence[str]) -> tuple[set[str], set[str]]:
        """Of `ids` (lower-case), those that are trace ids here and those that are span ids here."""
        wanted = sorted({str(item).strip().lower() for item in ids if str(item).strip()})
        if not wanted:
            return set(), set()
        _, rows = self._internal(sql_text("sandbox/known_ids.sql"), {"ids": wanted})
        return {row[0] for row in rows if row[1]}, {row[0] for row in rows if row[2]}


def _execute(process: SandboxProcess, sql: str, parameters: dict[str, Any] | None = None) -> None:
    """Run one loading statement in the sandbox process (no time limit: loading is ours, not a query)."""
    process.request({"op": "execute", "sql": sql, "params": parameters}, deadline=None)


def _copy_redacted(process: SandboxProcess) -> None:
    """`spans` from the view `unredacted_spans`, secrets redacted in every text column; the view then goes.

    Whatever the LLM or an MCP client queries is this copy, so no reshaping SQL can reach a raw secret.
    """
    _execute(process, sql_macro())
    _execute(process, sql_template("sandbox/redacted_spans.sql"), {"secret_rules": rules_fingerprint()})
    _execute(process, "DROP VIEW unredacted_spans")
    _execute(process, "DROP MACRO redact_secrets")
    _execute(process, "DROP MACRO may_hold_secret")


def _attach_read_only(process: SandboxProcess, db_path: Path) -> None:
    """ATTACH the database read-only, retrying while another process holds its lock."""
    timeout = float(os.environ.get("HALO_LOCK_TIMEOUT", "60"))
    deadline = time.monotonic() + timeout
    delay = 0.02
    while True:
        try:
            _execute(process, "ATTACH $path AS source (READ_ONLY)", {"path": str(db_path)})
            return
        except ChildFailure as failure:
            if failure.kind != "duckdb" or "lock" not in failure.message.lower():
                raise
            if time.monotonic() >= deadline:
                raise DatabaseBusyError(
                    f"the database {db_path} stayed busy for {timeout:.0f}s",
                    hint="another halo-local process is holding it; retry, or raise HALO_LOCK_TIMEOUT",
                ) from None
            time.sleep(delay + random.uniform(0, delay))
            delay = min(delay * 2, 0.5)


def _first_line_block(message: str) -> str:
    """DuckDB's error up to the caret diagram: enough for a human or a model to fix the query."""
    return message.split("\n\nLINE ")[0].strip()
