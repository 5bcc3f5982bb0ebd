"""The `runs` and `run_events` rows: states, file names, the in-process write lock, and the writes
every part of a run shares (insert, event, finish)."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from halo_local.common.rows import stored_rows
from halo_local.common.timestamps import utc_now
from halo_local.errors import NotFoundError
from halo_local.resources import sql_template, sql_text
from halo_local.store import Store

STATES = ("queued", "running", "completed", "failed", "cancelled", "timed_out", "no_traces")
ACTIVE_STATES = frozenset({"queued", "running"})
TERMINAL_STATES = frozenset(STATES) - ACTIVE_STATES
POLL_EXIT_CODES = {"completed": 0, "failed": 3, "cancelled": 4, "timed_out": 5, "no_traces": 6}
POLL_TIMEOUT_EXIT_CODE = 7

SNAPSHOT_FILE = "snapshot.parquet"
PREVIOUS_FILE = "previous.parquet"
# A ClickHouse run's window-wide overview, computed in the cluster when the run was created.
SOURCE_OVERVIEW_FILE = "source_overview.json"
REPORT_FILE = "report.md"
CANCEL_FILE = "cancel"
WORKER_LOG = "worker.log"

JSON_COLUMNS = {"findings", "checks", "llm_result", "detail", "thresholds", "changes"}
# One writer at a time within this process (a worker's heartbeat thread, an MCP server's requests):
# DuckDB would otherwise fail one of two concurrent transactions appending to the same timeline.
# Across processes, the database file lock already serialises writers.
WRITE_LOCK = threading.RLock()


@contextmanager
def writing(store: Store) -> Iterator[duckdb.DuckDBPyConnection]:
    """A write transaction under this process's write lock."""
    with WRITE_LOCK, store.transaction() as connection:
        yield connection


def new_run_id() -> str:
    return "run_" + uuid.uuid4().hex[:12]


def minutes(seconds: int) -> str:
    return f"{seconds / 60:g} min"


def insert_run(connection: duckdb.DuckDBPyConnection, store: Store, values: dict[str, Any]) -> None:
    """Record a queued run; a follow-up reads its analysis run's snapshot. `source`: the redacted URL the
    spans were read from (None: the local store)."""
    snapshot = store.runs_dir / values["run_id"] / SNAPSHOT_FILE
    if values["kind"] == "followup":
        snapshot = store.runs_dir / values["parent_run_id"] / SNAPSHOT_FILE
    connection.execute(sql_text("runs/insert_run.sql"), {"source": None, **values, "snapshot_path": str(snapshot)})


def save_findings(connection: duckdb.DuckDBPyConnection, run_id: str, findings: Sequence[Mapping[str, Any]],
                  checks: Sequence[Mapping[str, Any]]) -> None:
    """Save a run's findings (`Finding.to_json` of each, ranked) and checks. Each finding's affectedTraceIds go
    to run_finding_traces, one row a trace, and runs.findings keeps it with an empty list: a list inside
    runs.findings made every later run's checkpoints rewrite it (schema/011_run_finding_traces.sql)."""
    whole = json.dumps(list(findings), default=str)
    kept = json.dumps([{**item, "affectedTraceIds": []} for item in findings], default=str)
    connection.execute(sql_text("runs/save_findings.sql"), {
        "findings": kept, "checks": json.dumps(list(checks), default=str), "run_id": run_id})
    connection.execute(sql_text("runs/delete_finding_traces.sql"), {"run_id": run_id})
    connection.execute(sql_text("runs/insert_finding_traces.sql"), {"findings": whole, "run_id": run_id})


def insert_event(connection: duckdb.DuckDBPyConnection, run_id: str, kind: str, message: str,
                 detail: Mapping[str, Any] | None = None, at: datetime | None = None) -> None:
    connection.execute(sql_text("runs/insert_event.sql"), {
        "run_id": run_id, "at": at or utc_now(), "kind": kind, "message": message,
        "detail": json.dumps(dict(detail or {}), default=str, sort_keys=True),
    })


def finish(connection: duckdb.DuckDBPyConnection, run_id: str, status: str, reason: str | None,
           at: datetime, detail: Mapping[str, Any] | None = None) -> bool:
    """Move a queued/running run to `status` with its terminal event; False when it had already ended."""
    updated = connection.execute(sql_text("runs/finish_run.sql"), {
        "run_id": run_id, "status": status, "reason": reason, "at": at,
    }).fetchall()[0][0]
    if updated:
        message = status if not reason else f"{status}: {reason}"
        insert_event(connection, run_id, status, message, detail, at)
    return bool(updated)


@dataclass(frozen=True)
class RunRecord:
    """The columns of a `runs` row that executing a run reads (JSON columns as stored text).

    Not the `run get --json` document (see `documents.run_document`): this is the worker's view.
    """

    run_id: str
    conversation_id: str
    kind: str  # analysis | followup
    parent_run_id: str | None
    status: str
    status_reason: str | None
    agent_uuid: str
    agent_name: str | None
    prompt: str  # the analysis prompt, or a follow-up's question
    window_start: datetime
    window_end: datetime
    model_id: str
    no_llm: bool
    span_limit: int
    max_subagent_depth: int
    max_turns: int
    time_limit_seconds: int
    thresholds: str | None
    snapshot_path: str  # set when the run is recorded; a follow-up's is its analysis run's
    report_path: str | None
    findings: str | None
    created_at: datetime
    source: str | None  # the redacted ClickHouse source URL the window was read from; None: the local store

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> RunRecord:
        return cls(**{field.name: row[field.name] for field in fields(cls)})


def source_overview(run_dir: Path) -> dict[str, Any] | None:
    """The cluster's window-wide overview a ClickHouse run was created with, if any."""
    path = run_dir / SOURCE_OVERVIEW_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def run_record(store: Store, run_id: str) -> RunRecord:
    """The run's row as the worker reads it, or NotFoundError."""
    return RunRecord.from_row(run_row(store, run_id))


def run_row(store: Store, run_id: str) -> dict[str, Any]:
    """The run's row as stored (snake_case keys, JSON columns as text)."""
    with store.connect() as connection:
        rows = stored_rows(connection.execute(sql_template("runs/run.sql"), {"run_id": str(run_id)}))
    if not rows:
        raise NotFoundError(f"no run with id {str(run_id)!r}", hint="`halo-local run list` lists runs")
    return rows[0]


def status_of(store: Store, run_id: str) -> str:
    return run_record(store, run_id).status
