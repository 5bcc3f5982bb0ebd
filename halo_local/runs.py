"""Analysis runs: create, execute (detached worker or foreground), watch, cancel, reap.

A run snapshots one agent's spans in a time window to Parquet under `$HALO_HOME/runs/RUN_ID/`,
runs the heuristics (and, when allowed, the LLM pass) on that snapshot in an in-memory DuckDB,
renders the report and adds it to the run's conversation. The worker touches `halo.duckdb` only in
short transactions (status, heartbeat, events), so `poll`, `events`, `traces load` and other runs
keep working while an analysis is under way.

States: queued → running → completed | failed | cancelled | timed_out | no_traces.
A worker that dies stops its heartbeat; whichever command next reads the run marks it failed.

`run poll` exit codes (`POLL_EXIT_CODES`): 0 completed, 3 failed, 4 cancelled, 5 timed_out,
6 no_traces, 7 poll's own --timeout reached (1 and 2 stay the CLI's error and usage codes).
`run create --wait`, `conversation ask` and `analyze` end with the same codes.

Tuning (environment): HALO_HEARTBEAT_SECONDS (default 2) between heartbeats;
HALO_RUN_STALE_SECONDS (default 60) of silence after which a running run is declared dead.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb

from halo_local import clock as deadline_clock
from halo_local import heuristics, llm, report, traces, verdicts
from halo_local.errors import HaloLocalError, NotFoundError, NoTracesError, UsageError
from halo_local.flags import parse_int
from halo_local.resources import sql_text
from halo_local.store import Store

log = logging.getLogger("halo_local.runs")

STATES = ("queued", "running", "completed", "failed", "cancelled", "timed_out", "no_traces")
ACTIVE_STATES = frozenset({"queued", "running"})
TERMINAL_STATES = frozenset(STATES) - ACTIVE_STATES
POLL_EXIT_CODES = {"completed": 0, "failed": 3, "cancelled": 4, "timed_out": 5, "no_traces": 6}
POLL_TIMEOUT_EXIT_CODE = 7

DEFAULT_PROMPT = (
    "Find what makes this agent fail, slow or expensive. Rank the issues by impact, explain the "
    "likely cause of each with evidence from the traces, and give a concrete fix a coding agent can apply."
)
DEFAULT_CANCEL_REASON = "user-cancelled"
DEFAULT_LOOKBACK_HOURS = 24
DEFAULT_SPAN_LIMIT = 10_000
DEFAULT_MAX_SUBAGENT_DEPTH = 3
DEFAULT_MAX_TURNS = 50
DEFAULT_TIME_LIMIT_SECONDS = 30 * 60
MAX_SPAN_LIMIT = 1_000_000
MAX_LOOKBACK_HOURS = 876_000  # 100 years: further back, datetime arithmetic overflows

HEARTBEAT_SECONDS_ENV = "HALO_HEARTBEAT_SECONDS"
STALE_SECONDS_ENV = "HALO_RUN_STALE_SECONDS"
HEARTBEAT_EVENT_EVERY = 15  # beats between two `heartbeat` events on the timeline (the column moves every beat)
# A run stopped during its LLM pass for these reasons still writes the heuristics-only report.
LLM_STOP_KEEPS_REPORT = frozenset({"cancelled", "timed_out"})
TIME_LIMIT_GRACE_SECONDS = 60  # past its limit plus this, a run whose worker did not stop it is marked timed_out

SNAPSHOT_FILE = "snapshot.parquet"
PREVIOUS_FILE = "previous.parquet"
REPORT_FILE = "report.md"
CANCEL_FILE = "cancel"
WORKER_LOG = "worker.log"

_JSON_COLUMNS = {"findings", "checks", "llm_result", "detail", "thresholds"}
# One writer at a time within this process (a worker's heartbeat thread, an MCP server's requests):
# DuckDB would otherwise fail one of two concurrent transactions appending to the same timeline.
# Across processes, the database file lock already serialises writers.
_WRITE_LOCK = threading.RLock()


@contextmanager
def _writing(store: Store) -> Iterator[duckdb.DuckDBPyConnection]:
    with _WRITE_LOCK, store.transaction() as connection:
        yield connection


def heartbeat_seconds() -> float:
    return float(os.environ.get(HEARTBEAT_SECONDS_ENV, "2"))


def stale_after_seconds() -> float:
    """How long a running run may go without a heartbeat before it is declared dead."""
    return float(os.environ.get(STALE_SECONDS_ENV, "60"))


def new_run_id() -> str:
    return "run_" + uuid.uuid4().hex[:12]


def new_conversation_id() -> str:
    return "conv_" + uuid.uuid4().hex[:12]


def iso(value: datetime | None) -> str | None:
    """`2026-04-24T18:00:00Z` (seconds, or microseconds when present), the form every flag accepts."""
    if value is None:
        return None
    return value.isoformat() + "Z"


# ---------------------------------------------------------------------------------------------
# Options


def parse_timestamp(value: str | datetime, flag: str) -> datetime:
    """An ISO date-time (offset or Z; naive means UTC) as naive UTC, or a UsageError naming the flag."""
    if isinstance(value, datetime):
        parsed = value
    else:
        text = str(value).strip()
        try:
            parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text)
        except ValueError:
            raise UsageError(
                f"{flag} takes an ISO date-time such as 2026-04-24T18:00:00Z; got {value!r}"
            ) from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    return parsed


def resolve_window(
    window_start_at: str | datetime | None,
    window_end_at: str | datetime | None,
    lookback_hours: int | None = None,
    now: datetime | None = None,
) -> tuple[datetime, datetime]:
    """The analysed window [start, end): end defaults to now, start to end minus the lookback (default 24 h).

    A lookback together with a start is refused rather than ignored: the start alone decides where the
    window begins.
    """
    hours = (DEFAULT_LOOKBACK_HOURS if lookback_hours is None
             else parse_int(lookback_hours, "--lookback-hours", 1, MAX_LOOKBACK_HOURS))
    if window_start_at is not None and lookback_hours is not None:
        raise UsageError(
            f"--lookback-hours {hours} conflicts with --window-start-at: the window starts at "
            "--window-start-at, so the lookback would be ignored",
            hint="give --window-start-at (and --window-end-at) for an exact window, or --lookback-hours "
                 "to count back from --window-end-at (default now), not both",
        )
    end = parse_timestamp(window_end_at, "--window-end-at") if window_end_at is not None else (now or traces.utc_now())
    if window_start_at is not None:
        start = parse_timestamp(window_start_at, "--window-start-at")
    else:
        try:
            start = end - timedelta(hours=hours)
        except OverflowError:
            raise UsageError(f"--lookback-hours {hours} from {iso(end)} reaches before the year 1") from None
    if start >= end:
        raise UsageError(
            f"--window-start-at ({iso(start)}) must be before --window-end-at ({iso(end)})"
        )
    return start, end



# ---------------------------------------------------------------------------------------------
# Creating runs


def create_run(
    store: Store,
    *,
    agent_uuid: str,
    prompt: str | None = None,
    window_start_at: str | datetime | None = None,
    window_end_at: str | datetime | None = None,
    lookback_hours: int | None = None,
    model_id: str | None = None,
    span_limit: int = DEFAULT_SPAN_LIMIT,
    max_subagent_depth: int = DEFAULT_MAX_SUBAGENT_DEPTH,
    max_turns: int = DEFAULT_MAX_TURNS,
    no_llm: bool = False,
    time_limit_seconds: int = DEFAULT_TIME_LIMIT_SECONDS,
    thresholds: Mapping[str, Any] | None = None,
    wait: bool = False,
    schedule_id: str | None = None,
    now: datetime | None = None,
    on_event: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Validate every option, record the run as queued with its conversation, then start it.

    Without `wait` a detached worker process runs it and this returns at once (status `queued`);
    with `wait` it runs here and this returns when it has ended. `on_event` sees each event of a
    foreground run as it is recorded. `thresholds` overrides heuristics thresholds for this run only
    (over the defaults and `$HALO_HOME/heuristics.toml`).
    """
    window_start, window_end = resolve_window(window_start_at, window_end_at, lookback_hours, now)
    parse_int(span_limit, "--span-limit", 1, MAX_SPAN_LIMIT)
    parse_int(max_subagent_depth, "--max-subagent-depth", 1, 5)
    parse_int(max_turns, "--max-turns", 1, 100)
    parse_int(time_limit_seconds, "time_limit_seconds", 1, None)
    heuristics.load_thresholds(store.home, thresholds)
    text = DEFAULT_PROMPT if prompt is None or not str(prompt).strip() else str(prompt).strip()
    resolved_model = llm.resolve_model_id(model_id)
    agent = traces.find_agent(store, agent_uuid)
    created_at = now or traces.utc_now()
    run_id, conversation_id = new_run_id(), new_conversation_id()
    title = f"{agent['name'] or agent['agentUuid']}: {_short(window_start)} .. {_short(window_end)} UTC"
    with _writing(store) as connection:
        connection.execute(sql_text("runs/insert_conversation.sql"), {
            "conversation_id": conversation_id, "title": title, "agent_uuid": agent["agentUuid"],
            "agent_name": agent["name"], "created_at": created_at,
        })
        _insert_run(connection, store, {
            "run_id": run_id, "conversation_id": conversation_id, "kind": "analysis", "parent_run_id": None,
            "schedule_id": schedule_id, "agent_uuid": agent["agentUuid"], "agent_name": agent["name"],
            "prompt": text, "window_start": window_start, "window_end": window_end, "model_id": resolved_model,
            "no_llm": bool(no_llm), "span_limit": span_limit, "max_subagent_depth": max_subagent_depth,
            "max_turns": max_turns, "time_limit_seconds": time_limit_seconds, "created_at": created_at,
            "thresholds": json.dumps(dict(thresholds)) if thresholds else None,
            "llm_skip_reason": llm.llm_skip_reason(bool(no_llm)),
        })
        _add_message(connection, conversation_id, "user", text, run_id, created_at)
        _insert_event(connection, run_id, "queued", f"queued: analyse {agent['name'] or agent['agentUuid']} "
                      f"from {iso(window_start)} to {iso(window_end)}", {"wait": bool(wait)}, created_at)
    if wait:
        execute_run(store, run_id, on_event=on_event)
    else:
        start_worker(store, run_id)
    return get_run(store, run_id, include_findings=False)


def create_followup_run(store: Store, conversation_id: str, question: str, *, no_llm: bool = False,
                        model_id: str | None = None) -> str:
    """Record a follow-up question as a queued run of the conversation (and its user message)."""
    text = str(question).strip()
    if not text:
        raise UsageError("the question is empty", hint='conversation ask CONV_ID "what should I fix first?"')
    analysis = _analysis_run_of(store, conversation_id)
    if analysis["status"] in ACTIVE_STATES:
        raise UsageError(
            f"the conversation's analysis run {analysis['run_id']} is still {analysis['status']}",
            hint=f"wait for it with `halo-local run poll {analysis['run_id']}`",
        )
    if analysis["status"] != "completed" and analysis["report_path"] is None:
        raise UsageError(
            f"the conversation's analysis run {analysis['run_id']} ended {analysis['status']}: "
            f"{analysis['status_reason']}",
            hint="there is no report to ask about; start a new analysis with `halo-local run create`",
        )
    resolved_model = llm.resolve_model_id(model_id if model_id is not None else analysis["model_id"])
    run_id = new_run_id()
    created_at = traces.utc_now()
    with _writing(store) as connection:
        _insert_run(connection, store, {
            "run_id": run_id, "conversation_id": conversation_id, "kind": "followup",
            "parent_run_id": analysis["run_id"], "schedule_id": None, "agent_uuid": analysis["agent_uuid"],
            "agent_name": analysis["agent_name"], "prompt": text, "window_start": analysis["window_start"],
            "window_end": analysis["window_end"], "model_id": resolved_model, "no_llm": bool(no_llm),
            "span_limit": analysis["span_limit"], "max_subagent_depth": analysis["max_subagent_depth"],
            "max_turns": analysis["max_turns"], "time_limit_seconds": analysis["time_limit_seconds"],
            "thresholds": None, "created_at": created_at, "llm_skip_reason": llm.llm_skip_reason(bool(no_llm)),
        })
        _add_message(connection, conversation_id, "user", text, run_id, created_at)
        _insert_event(connection, run_id, "queued", f"queued: follow-up question on {analysis['run_id']}",
                      {"parentRunId": analysis["run_id"]}, created_at)
    return run_id


def _analysis_run_of(store: Store, conversation_id: str) -> dict[str, Any]:
    with store.connect() as connection:
        cursor = connection.execute(
            "SELECT * FROM runs WHERE conversation_id = $conversation_id AND kind = 'analysis'"
            " ORDER BY created_at LIMIT 1",
            {"conversation_id": str(conversation_id)},
        )
        names = [column[0] for column in cursor.description]
        rows = cursor.fetchall()
        row = rows[0] if rows else None
    if row is None:
        raise NotFoundError(f"no conversation with id {conversation_id!r}",
                            hint="`halo-local conversation list` lists conversations")
    return dict(zip(names, row))


def _insert_run(connection: duckdb.DuckDBPyConnection, store: Store, values: dict[str, Any]) -> None:
    snapshot = store.runs_dir / values["run_id"] / SNAPSHOT_FILE
    if values["kind"] == "followup":
        snapshot = store.runs_dir / values["parent_run_id"] / SNAPSHOT_FILE
    connection.execute(sql_text("runs/insert_run.sql"), {**values, "snapshot_path": str(snapshot)})


def _short(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def _add_message(connection: duckdb.DuckDBPyConnection, conversation_id: str, role: str, content: str,
                 run_id: str | None, at: datetime) -> None:
    connection.execute(sql_text("runs/insert_message.sql"), {
        "conversation_id": conversation_id, "role": role, "content": content, "run_id": run_id, "created_at": at,
    })
    connection.execute(
        "UPDATE conversations SET updated_at = $at WHERE conversation_id = $conversation_id",
        {"at": at, "conversation_id": conversation_id},
    )


def _insert_event(connection: duckdb.DuckDBPyConnection, run_id: str, kind: str, message: str,
                  detail: Mapping[str, Any] | None = None, at: datetime | None = None) -> None:
    connection.execute(sql_text("runs/insert_event.sql"), {
        "run_id": run_id, "at": at or traces.utc_now(), "kind": kind, "message": message,
        "detail": json.dumps(dict(detail or {}), default=str, sort_keys=True),
    })


# ---------------------------------------------------------------------------------------------
# Detached workers and liveness


def start_worker(store: Store, run_id: str) -> int:
    """Start `python -m halo_local.runs RUN_ID` in its own session, logging to the run's folder."""
    run_dir = store.runs_dir / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    package_parent = str(Path(__file__).resolve().parent.parent)
    python_path = os.pathsep.join(filter(None, [package_parent, os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "HALO_HOME": str(store.home), "PYTHONPATH": python_path}
    with (run_dir / WORKER_LOG).open("ab") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "halo_local.runs", run_id],
            stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
            start_new_session=True, env=env, close_fds=True,
        )
    with _writing(store) as connection:
        connection.execute(
            "UPDATE runs SET worker_pid = $pid, worker_host = $host, worker_started_ticks = $ticks"
            " WHERE run_id = $run_id AND worker_pid IS NULL",
            {"pid": process.pid, "host": socket.gethostname(), "ticks": _process_start_ticks(process.pid),
             "run_id": run_id},
        )
    return process.pid


def _process_start_ticks(pid: int) -> int | None:
    """When the process started, in clock ticks since boot (Linux); tells a reused pid apart."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[19])
    except (OSError, IndexError, ValueError):
        return None


def process_alive(pid: int, started_ticks: int | None = None) -> bool:
    """True when `pid` is a live (not zombie) process, and the same one when its start time is known."""
    if Path("/proc/self/stat").exists():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            return False
        except OSError:
            return True
        if fields[0] in ("Z", "X", "x"):
            return False
        return started_ticks is None or int(fields[19]) == started_ticks
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap_stale_runs(store: Store, *, now: datetime | None = None) -> list[str]:
    """End the queued/running runs whose worker is gone, silent or over its time limit.

    Called by every command that reads runs, so a run never stays `running` after its worker died
    (kill -9, crash, machine asleep). Returns the ids it ended.
    """
    moment = now or traces.utc_now()
    stale = timedelta(seconds=stale_after_seconds())
    host = socket.gethostname()
    with store.connect() as connection:
        cursor = connection.execute(sql_text("runs/active_runs.sql"))
        names = [column[0] for column in cursor.description]
        active = [dict(zip(names, row)) for row in cursor.fetchall()]
    verdicts: list[tuple[str, str, str]] = []
    for run in active:
        verdict = _verdict(run, moment, stale, host, store.runs_dir)
        if verdict is not None:
            verdicts.append((run["run_id"], *verdict))
    ended = []
    for run_id, status, reason in verdicts:
        with _writing(store) as connection:
            if _finish(connection, run_id, status, reason, moment):
                ended.append(run_id)
    return ended


def _verdict(run: Mapping[str, Any], now: datetime, stale: timedelta,
             host: str, runs_dir: Path) -> tuple[str, str] | None:
    pid = run["worker_pid"]
    local = pid is not None and run["worker_host"] == host
    if local and not process_alive(pid, run["worker_started_ticks"]):
        last = f"; last heartbeat {iso(run['heartbeat_at'])}" if run["heartbeat_at"] else ""
        died_of = _fatal_exception(runs_dir / run["run_id"] / WORKER_LOG)
        if died_of is not None:
            return "failed", f"worker died of {died_of} (process {pid} is gone{last}; see {WORKER_LOG})"
        return "failed", f"worker stopped (killed or crashed): process {pid} is gone{last}; see {WORKER_LOG}"
    if run["status"] == "running":
        last_sign = run["heartbeat_at"] or run["started_at"] or run["created_at"]
        if now - last_sign > stale:
            return "failed", (f"worker stopped (killed or crashed): no heartbeat since {iso(last_sign)} "
                              f"(more than {stale.total_seconds():.0f}s; machine asleep or worker hung)")
        limit = timedelta(seconds=run["time_limit_seconds"] + TIME_LIMIT_GRACE_SECONDS)
        if run["started_at"] is not None and now - run["started_at"] > limit:
            return "timed_out", f"the run exceeded its time limit of {_minutes(run['time_limit_seconds'])}"
    elif now - run["created_at"] > stale and (pid is None or not local):
        return "failed", f"worker stopped (killed or crashed): it never started within {stale.total_seconds():.0f}s"
    return None


def _minutes(seconds: int) -> str:
    return f"{seconds / 60:g} min"


_LOG_RECORD_START = re.compile(r"^\d{4}-\d\d-\d\d ")
_LOG_TAIL_BYTES = 64 << 10


def _fatal_exception(log_path: Path) -> str | None:
    """`Type: message` of the traceback a worker's log ends with (the exception it died of), else None:
    a log that goes on after its last traceback was not ended by it."""
    try:
        with log_path.open("rb") as handle:
            handle.seek(max(0, handle.seek(0, os.SEEK_END) - _LOG_TAIL_BYTES))
            tail = handle.read().decode("utf-8", "replace")
    except OSError:
        return None
    header = tail.rfind("Traceback (most recent call last):")
    if header < 0:
        return None
    lines = tail[header:].splitlines()[1:]
    message = [line for line in lines if line.strip() and not line.startswith(" ")]
    if not message or any(_LOG_RECORD_START.match(line) for line in message):
        return None
    return describe_exception_text(" ".join(message))


def describe_exception(error: BaseException) -> str:
    """`Type: message` of an exception on one line, as a run's statusReason records it."""
    return describe_exception_text(f"{type(error).__name__}: {error}")


def describe_exception_text(text: str) -> str:
    collapsed = " ".join(text.split())
    return collapsed if len(collapsed) <= 500 else collapsed[:499] + "…"


def _finish(connection: duckdb.DuckDBPyConnection, run_id: str, status: str, reason: str | None,
            at: datetime, detail: Mapping[str, Any] | None = None) -> bool:
    """Move a queued/running run to `status` with its terminal event; False when it had already ended."""
    updated = connection.execute(sql_text("runs/finish_run.sql"), {
        "run_id": run_id, "status": status, "reason": reason, "at": at,
    }).fetchall()[0][0]
    if updated:
        message = status if not reason else f"{status}: {reason}"
        _insert_event(connection, run_id, status, message, detail, at)
    return bool(updated)


# ---------------------------------------------------------------------------------------------
# Executing a run (the worker's body; also the foreground of --wait and of follow-ups)


class _Stopped(Exception):
    """The run must end now with `status` (cancelled, timed_out, no_traces, failed)."""

    def __init__(self, status: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class _RunControl:
    """What the worker needs while it runs: events, heartbeat, cancellation, the time limit."""

    store: Store
    run_id: str
    time_limit_seconds: int
    on_event: Callable[[dict[str, Any]], None] | None = None
    active_connection: duckdb.DuckDBPyConnection | None = None
    _stop: tuple[str, str] | None = None
    _deadline: float = 0.0

    def __post_init__(self) -> None:
        self._deadline = deadline_clock.monotonic() + self.time_limit_seconds
        self.cancel_file = self.store.runs_dir / self.run_id / CANCEL_FILE

    def request_stop(self, status: str, reason: str) -> None:
        if self._stop is None:
            self._stop = (status, reason)
        connection = self.active_connection
        if connection is not None:
            connection.interrupt()

    def stop_requested(self) -> tuple[str, str] | None:
        """Why the run must stop, if it must: a cancel request, the time limit, a signal."""
        if self._stop is None:
            if self.cancel_file.exists():
                reason = self.cancel_file.read_text(encoding="utf-8").strip() or DEFAULT_CANCEL_REASON
                self.request_stop("cancelled", reason)
            elif deadline_clock.monotonic() > self._deadline:
                self.request_stop("timed_out", f"the run exceeded its time limit of {_minutes(self.time_limit_seconds)}")
        return self._stop

    def should_cancel(self) -> bool:
        return self.stop_requested() is not None

    def check(self) -> None:
        stop = self.stop_requested()
        if stop is not None:
            raise _Stopped(*stop)

    def event(self, kind: str, message: str, detail: Mapping[str, Any] | None = None) -> None:
        at = traces.utc_now()
        with _writing(self.store) as connection:
            _insert_event(connection, self.run_id, kind, message, detail, at)
        log.info("%s %s", kind, message)
        if self.on_event is not None:
            self.on_event({"at": iso(at), "kind": kind, "message": message, "detail": dict(detail or {})})

    def llm_event(self, kind: str, detail: Mapping[str, Any]) -> None:
        """Forward the LLM pass's events (turns, tool calls, retries) to the timeline."""
        self.event(kind, _describe_llm_event(kind, detail), detail)

    def finish(self, status: str, reason: str | None, detail: Mapping[str, Any] | None = None) -> str:
        at = traces.utc_now()
        with _writing(self.store) as connection:
            ended = _finish(connection, self.run_id, status, reason, at, detail)
        if ended and self.on_event is not None:
            self.on_event({"at": iso(at), "kind": status, "message": f"{status}: {reason}" if reason else status,
                           "detail": dict(detail or {})})
        return status if ended else _status_of(self.store, self.run_id)

    def beat(self, record_event: bool) -> None:
        """Move the heartbeat; a run some other process ended meanwhile must stop here too."""
        at = traces.utc_now()
        with _writing(self.store) as connection:
            updated = connection.execute(
                "UPDATE runs SET heartbeat_at = $at WHERE run_id = $run_id AND status = 'running'",
                {"at": at, "run_id": self.run_id},
            ).fetchall()[0][0]
            if updated and record_event:
                _insert_event(connection, self.run_id, "heartbeat", "heartbeat: worker alive",
                              {"pid": os.getpid()}, at)
        if not updated:
            self.request_stop("failed", "the run was ended by another process")


def _describe_llm_event(kind: str, detail: Mapping[str, Any]) -> str:
    """One timeline line for an LLM pass event (its detail keys are camelCase)."""
    if kind == "llm_turn":
        return (f"LLM turn {detail.get('turn', '?')} (depth {detail.get('depth', 0)}): "
                f"{detail.get('inputTokens', '?')} in / {detail.get('outputTokens', '?')} out tokens")
    if kind == "tool_call":
        return f"tool call {detail.get('tool', '?')} (depth {detail.get('depth', 0)})"
    if kind == "subagent":
        return f"sub-agent on {detail.get('findingKey', '?')} at depth {detail.get('depth', '?')}"
    if kind == "retry":
        return f"LLM retry {detail.get('attempt', '?')} after {detail.get('status', 'an error')}"
    if kind == "llm_error":
        return f"LLM error: {detail.get('message', '?')}"
    if kind == "context_trimmed":
        return (f"LLM context full: {detail.get('elidedResults', '?')} older tool results elided "
                f"(depth {detail.get('depth', 0)})")
    return kind.replace("_", " ")


@contextmanager
def _heartbeat(control: _RunControl) -> Iterator[None]:
    """Beat every few seconds in a thread while the run works; stops with the run."""
    done = threading.Event()
    interval = heartbeat_seconds()

    def loop() -> None:
        beats = 0
        while True:
            try:
                control.beat(record_event=beats % HEARTBEAT_EVENT_EVERY == 0)
            except HaloLocalError as error:
                log.warning("heartbeat skipped: %s", error.message)
            beats += 1
            if control.should_cancel() and control.active_connection is not None:
                control.active_connection.interrupt()
            if done.wait(interval):
                return

    thread = threading.Thread(target=loop, name=f"heartbeat-{control.run_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(timeout=interval + 5)


@contextmanager
def _stop_on_signals(control: _RunControl) -> Iterator[None]:
    """SIGTERM or Ctrl-C cancel the run (a second Ctrl-C interrupts at once)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum: int, _frame: Any) -> None:
        name = signal.Signals(signum).name
        if signum == signal.SIGINT and control._stop is not None:
            raise KeyboardInterrupt
        control.request_stop("cancelled", f"interrupted by {name}")

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def execute_run(store: Store, run_id: str, *, on_event: Callable[[dict[str, Any]], None] | None = None) -> str:
    """Run a queued run to its end here and return its final status.

    Never raises for what happens inside the run: errors end it `failed` with the reason, a cancel
    request or a signal ends it `cancelled`, the time limit `timed_out`. Only a second Ctrl-C
    escapes (after the run was marked cancelled).
    """
    run = _run_row(store, run_id)
    control = _RunControl(store, run_id, run["time_limit_seconds"], on_event)
    if not _mark_running(store, run_id):
        return _status_of(store, run_id)
    control.event("started", f"started in process {os.getpid()}", {"pid": os.getpid(), "kind": run["kind"]})
    with _heartbeat(control), _stop_on_signals(control):
        try:
            if run["kind"] == "followup":
                return _answer_followup(control, run)
            return _analyse(control, run)
        except _Stopped as stop:
            return control.finish(stop.status, stop.reason)
        except (llm.LlmCancelled, duckdb.InterruptException):
            status, reason = control.stop_requested() or ("cancelled", DEFAULT_CANCEL_REASON)
            return control.finish(status, reason)
        except KeyboardInterrupt:
            control.finish("cancelled", "interrupted by SIGINT")
            raise
        except Exception as error:  # the run must end failed whatever broke, with the reason recorded
            log.exception("run %s failed", run_id)
            stop = control.stop_requested()
            if stop is not None and stop[0] != "failed":
                return control.finish(*stop)
            return control.finish("failed", describe_exception(error))


def _mark_running(store: Store, run_id: str) -> bool:
    """queued → running, claiming the run for this process; False if it was cancelled or taken."""
    with _writing(store) as connection:
        updated = connection.execute(
            "UPDATE runs SET status = 'running', started_at = $at, heartbeat_at = $at, worker_pid = $pid,"
            " worker_host = $host, worker_started_ticks = $ticks WHERE run_id = $run_id AND status = 'queued'",
            {"at": traces.utc_now(), "pid": os.getpid(), "host": socket.gethostname(),
             "ticks": _process_start_ticks(os.getpid()), "run_id": run_id},
        ).fetchall()[0][0]
    return bool(updated)


def _run_row(store: Store, run_id: str) -> dict[str, Any]:
    with store.connect() as connection:
        cursor = connection.execute("SELECT * FROM runs WHERE run_id = $run_id", {"run_id": str(run_id)})
        names = [column[0] for column in cursor.description]
        rows = cursor.fetchall()
        row = rows[0] if rows else None
    if row is None:
        raise NotFoundError(f"no run with id {str(run_id)!r}", hint="`halo-local run list` lists runs")
    return dict(zip(names, row))


def _status_of(store: Store, run_id: str) -> str:
    return _run_row(store, run_id)["status"]


@dataclass(frozen=True)
class _Dataset:
    snapshot: Path
    previous: Path | None
    snapshot_spans: int
    snapshot_traces: int
    window_spans: int
    window_traces: int
    previous_spans: int

    @property
    def truncated(self) -> bool:
        return self.snapshot_spans < self.window_spans


def _analyse(control: _RunControl, run: Mapping[str, Any]) -> str:
    store, run_id = control.store, control.run_id
    run_dir = store.runs_dir / run_id
    run_dir.mkdir(parents=True, exist_ok=True)

    control.check()
    control.event("step_started", "snapshot: copying the agent's spans in the window", {"step": "snapshot"})
    dataset = _take_snapshot(control, run, run_dir)
    cut = f", cut by the span limit from {dataset.window_spans:,}" if dataset.truncated else ""
    control.event("step_finished", f"snapshot: {dataset.snapshot_spans:,} spans in {dataset.snapshot_traces:,} "
                  f"traces{cut}", {"step": "snapshot", "spans": dataset.snapshot_spans,
                                    "traces": dataset.snapshot_traces, "truncated": dataset.truncated,
                                    "previousSpans": dataset.previous_spans})

    control.check()
    control.event("step_started", "heuristics: running the detectors on the snapshot", {"step": "heuristics"})
    with _snapshot_connection(control, dataset) as connection:
        analysis = heuristics.analyze(
            connection, agent_uuid=run["agent_uuid"], table="window_spans",
            previous_table="previous_spans" if dataset.previous is not None else None,
            thresholds=heuristics.load_thresholds(
                store.home, json.loads(run["thresholds"]) if run["thresholds"] else None),
        )
        sections = report.collect_sections(connection)
    findings = analysis.findings
    checks = [check.to_json() for check in analysis.checks]
    trace_verdicts = verdicts.build_verdicts(analysis.outcomes, [item.to_json() for item in findings])
    with _writing(store) as connection:
        connection.execute(
            "UPDATE runs SET findings = $findings, checks = $checks WHERE run_id = $run_id",
            {"findings": json.dumps([item.to_json() for item in findings], default=str),
             "checks": json.dumps(checks, default=str), "run_id": run_id},
        )
        verdicts.save_verdicts(connection, run_id, trace_verdicts)
    control.event("step_finished", f"heuristics: {len(findings)} findings", {
        "step": "heuristics", "findings": len(findings),
        "bySeverity": {level: sum(1 for item in findings if item.severity == level) for level in ("high", "medium", "low")},
    })

    control.check()
    llm_state = _llm_pass(control, run, dataset, findings, sections)
    stopped = llm_state.pop("stoppedBy", None)

    if stopped is None:
        control.check()
    control.event("step_started", "report: rendering", {"step": "report"})
    markdown = report.render_report(
        run=_report_run_facts(run, dataset), sections=sections, findings=[item.to_json() for item in findings],
        checks=checks, llm_state={**llm_state, "stopped": stopped is not None},
        read_first=[item for item in trace_verdicts if item.score > 0][:report.READ_FIRST],
    )
    report_path = run_dir / REPORT_FILE
    report_path.write_text(markdown, encoding="utf-8")
    control.event("step_finished", f"report: {len(markdown):,} characters", {"step": "report", "path": str(report_path)})
    if stopped is not None:
        return _complete(control, run, markdown, report_path, stopped[1], status=stopped[0])
    reason = (f"LLM pass failed ({llm_state['error']}); the report is heuristics-only (degraded)"
              if llm_state["degraded"] else None)
    return _complete(control, run, markdown, report_path, reason)


def _complete(control: _RunControl, run: Mapping[str, Any], markdown: str, report_path: Path | None,
              reason: str | None, *, status: str = "completed") -> str:
    """End the run (`completed`, or `cancelled`/`timed_out` with the heuristics report) and add the
    assistant message, in one transaction; a run ended meanwhile stays as it ended."""
    at = traces.utc_now()
    with _writing(control.store) as connection:
        ended = _finish(connection, control.run_id, status, reason, at)
        if ended:
            _add_message(connection, run["conversation_id"], "assistant", markdown, control.run_id, at)
            connection.execute("UPDATE runs SET report_path = $path WHERE run_id = $run_id",
                               {"path": str(report_path) if report_path else None, "run_id": control.run_id})
    if not ended:
        return _status_of(control.store, control.run_id)
    if control.on_event is not None:
        message = f"{status}: {reason}" if reason else status
        control.on_event({"at": iso(at), "kind": status, "message": message, "detail": {}})
    return status


def _take_snapshot(control: _RunControl, run: Mapping[str, Any], run_dir: Path) -> _Dataset:
    """Copy the window's spans (and the previous window's) to Parquet; no spans → `no_traces`."""
    store = control.store
    params = {"agent_uuid": run["agent_uuid"], "window_start": run["window_start"], "window_end": run["window_end"],
              "span_limit": run["span_limit"]}
    length = run["window_end"] - run["window_start"]
    previous_params = {**params, "window_start": run["window_start"] - length, "window_end": run["window_start"]}
    snapshot, previous = run_dir / SNAPSHOT_FILE, run_dir / PREVIOUS_FILE
    with _WRITE_LOCK, store.connect() as connection:
        connection.execute(llm.redact.sql_macro())
        window_spans, window_traces = connection.execute(sql_text("runs/window_counts.sql"), {
            key: params[key] for key in ("agent_uuid", "window_start", "window_end")}).fetchall()[0]
        if window_spans == 0:
            covered = connection.execute(sql_text("runs/agent_range.sql"), {"agent_uuid": run["agent_uuid"]}).fetchall()[0]
            raise _Stopped("no_traces", no_traces_message(run, covered[1], covered[2]))
        _write_parquet(connection, sql_text("runs/snapshot.sql"), params, snapshot)
        previous_count = connection.execute(sql_text("runs/window_counts.sql"), {
            key: previous_params[key] for key in ("agent_uuid", "window_start", "window_end")}).fetchall()[0][0]
        if previous_count:
            _write_parquet(connection, sql_text("runs/snapshot.sql"), previous_params, previous)
    with duckdb.connect() as memory:
        spans, trace_count = memory.read_parquet(str(snapshot)).aggregate(
            "count(*), count(DISTINCT trace_id)").fetchall()[0]
        previous_spans = memory.read_parquet(str(previous)).count("*").fetchall()[0][0] if previous_count else 0
    dataset = _Dataset(snapshot, previous if previous_count else None, spans, trace_count, window_spans,
                       window_traces, previous_spans)
    with _writing(store) as connection:
        connection.execute(sql_text("runs/save_dataset.sql"), {
            "run_id": control.run_id, "snapshot_spans": dataset.snapshot_spans,
            "snapshot_traces": dataset.snapshot_traces, "window_spans": dataset.window_spans,
            "window_traces": dataset.window_traces, "snapshot_truncated": dataset.truncated,
            "previous_spans": dataset.previous_spans,
        })
    return dataset


def _write_parquet(connection: duckdb.DuckDBPyConnection, query: str, params: Mapping[str, Any], path: Path) -> None:
    """Write a query's rows to `path` atomically (a reader never sees half a file)."""
    partial = path.with_suffix(".parquet.partial")
    connection.sql(query, params=dict(params)).write_parquet(str(partial))
    partial.replace(path)


def no_traces_message(run: Mapping[str, Any], first: datetime | None, last: datetime | None) -> str:
    """Why a window was empty, what range the agent's stored spans cover, and the flags that reach it."""
    who = run["agent_name"] or run["agent_uuid"]
    empty = f"no spans of agent {who} between {iso(run['window_start'])} and {iso(run['window_end'])}"
    if first is None or last is None:
        return f"{empty}, and none are stored for it at all; load its traces with `halo-local traces load PATH`"
    start = first.replace(microsecond=0)
    end = last.replace(microsecond=0) + timedelta(seconds=1)
    hours = max(1, math.ceil((traces.utc_now() - start).total_seconds() / 3600))
    return (f"{empty}; its stored spans cover {iso(first.replace(microsecond=0))} .. {iso(last.replace(microsecond=0))}. "
            f"Reach them with --window-start-at {iso(start)} --window-end-at {iso(end)} "
            f"(or --lookback-hours {hours})")


@contextmanager
def _snapshot_connection(control: _RunControl, dataset: _Dataset) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB with views `window_spans` / `previous_spans` over the run's Parquet files."""
    connection = duckdb.connect()
    try:
        connection.read_parquet(str(dataset.snapshot)).create_view("window_spans")
        if dataset.previous is not None:
            connection.read_parquet(str(dataset.previous)).create_view("previous_spans")
        control.active_connection = connection
        yield connection
    finally:
        control.active_connection = None
        connection.close()


def _llm_pass(control: _RunControl, run: Mapping[str, Any], dataset: _Dataset, findings: Sequence[Any],
              sections: Mapping[str, Any]) -> dict[str, Any]:
    """Run the LLM pass when allowed; its failure degrades the run instead of failing it."""
    state: dict[str, Any] = {"ran": False, "skippedReason": None, "degraded": False, "error": None,
                             "modelId": run["model_id"], "result": None}
    skip = llm.llm_skip_reason(bool(run["no_llm"]))
    if skip is not None:
        state["skippedReason"] = skip
        with _writing(control.store) as connection:
            connection.execute("UPDATE runs SET llm_skip_reason = $reason WHERE run_id = $run_id",
                               {"reason": skip, "run_id": control.run_id})
        control.event("llm_skipped", f"LLM pass skipped: {skip}", {"step": "llm", "reason": skip})
        return state
    control.event("step_started", f"llm: analysing with {run['model_id']}", {"step": "llm", "modelId": run["model_id"]})
    context = {
        "runId": control.run_id, "agentUuid": run["agent_uuid"], "agentName": run["agent_name"],
        "windowStart": iso(run["window_start"]), "windowEnd": iso(run["window_end"]),
        "spans": dataset.snapshot_spans, "traces": dataset.snapshot_traces, "truncated": dataset.truncated,
        "overview": sections["overview"],
    }
    try:
        result = llm.run_analysis(
            snapshot=dataset.snapshot, findings=findings, context=context, prompt=run["prompt"],
            model_id=run["model_id"], max_turns=run["max_turns"], max_subagent_depth=run["max_subagent_depth"],
            on_event=control.llm_event, should_cancel=control.should_cancel,
        )
    except llm.LlmCancelled:
        stop = control.stop_requested()
        if stop is None or stop[0] not in LLM_STOP_KEEPS_REPORT:
            raise
        note = _llm_stop_note(*stop, run["time_limit_seconds"])
        state.update(degraded=True, error=note, stoppedBy=stop)
        _save_llm(control, ran=False, degraded=True, error=note, result=None)
        control.event("llm_stopped", f"LLM pass {note}; writing the heuristics-only report",
                      {"step": "llm", "status": stop[0], "reason": stop[1]})
        return state
    except llm.LlmError as error:
        state.update(degraded=True, error=_llm_error_text(error))
        _save_llm(control, ran=False, degraded=True, error=state["error"], result=None)
        control.event("llm_failed", f"LLM pass failed, continuing heuristics-only: {state['error']}",
                      {"step": "llm", "error": state["error"]})
        return state
    state.update(ran=True, result=result)
    _save_llm(control, ran=True, degraded=False, error=None, result=result)
    control.event("step_finished", f"llm: {result.turns} turns, {len(result.notes)} issues explained",
                  {"step": "llm", "turns": result.turns, "notes": len(result.notes),
                   "inventedIdsRemoved": result.invented_ids_removed})
    return state


def _llm_error_text(error: llm.LlmError) -> str:
    """The failure as `llm.error`, the report and the status reason word it: what happened, then what to do."""
    return f"{error.message}; {error.hint}" if error.hint else error.message


def _llm_stop_note(status: str, reason: str, time_limit_seconds: int) -> str:
    """Why the LLM pass stopped early, as the report and `run get` word it."""
    if status == "timed_out":
        return f"stopped at the run's time limit of {_minutes(time_limit_seconds)}"
    return f"stopped because the run was cancelled: {reason}"


def _save_llm(control: _RunControl, *, ran: bool, degraded: bool, error: str | None, result: Any) -> None:
    with _writing(control.store) as connection:
        connection.execute(sql_text("runs/save_llm.sql"), {
            "run_id": control.run_id, "llm_ran": ran, "degraded": degraded, "llm_error": error,
            "input_tokens": getattr(result, "input_tokens", None),
            "output_tokens": getattr(result, "output_tokens", None),
            "cache_read_tokens": getattr(result, "cache_read_tokens", None),
            "cache_write_tokens": getattr(result, "cache_write_tokens", None),
            "cost_usd": getattr(result, "cost_usd", None), "turns": getattr(result, "turns", None),
            "invented_ids_removed": getattr(result, "invented_ids_removed", None),
            "llm_result": json.dumps(llm_result_json(result), default=str) if result is not None else None,
        })


def llm_result_json(result: Any) -> dict[str, Any]:
    """The LLM's summary and notes as stored on the run (camelCase)."""
    return {"summary": result.summary, "notes": [note.to_json() for note in result.notes]}


def _report_run_facts(run: Mapping[str, Any], dataset: _Dataset) -> dict[str, Any]:
    return {
        "runId": run["run_id"], "agentUuid": run["agent_uuid"], "agentName": run["agent_name"],
        "windowStart": iso(run["window_start"]), "windowEnd": iso(run["window_end"]),
        "prompt": run["prompt"], "modelId": run["model_id"], "spanLimit": run["span_limit"],
        "snapshotSpans": dataset.snapshot_spans, "snapshotTraces": dataset.snapshot_traces,
        "windowSpans": dataset.window_spans, "windowTraces": dataset.window_traces,
        "truncated": dataset.truncated, "previousSpans": dataset.previous_spans,
    }


def _answer_followup(control: _RunControl, run: Mapping[str, Any]) -> str:
    """A follow-up: the LLM answers from the report, findings and snapshot; else (also when the LLM pass is
    cancelled or timed out, which the run's status keeps) the findings do."""
    store = control.store
    parent = _run_row(store, run["parent_run_id"])
    findings_json = json.loads(parent["findings"] or "[]")
    with store.connect() as connection:
        history = connection.execute(
            "SELECT role, content FROM messages WHERE conversation_id = $conversation_id"
            " AND coalesce(run_id, '') <> $run_id ORDER BY seq",
            {"conversation_id": run["conversation_id"], "run_id": control.run_id},
        ).fetchall()
    first_answer = next((index for index, (role, _) in enumerate(history) if role == "assistant"), None)
    report_markdown = history[first_answer][1] if first_answer is not None else ""
    earlier = history[first_answer + 1:] if first_answer is not None else []
    skip = llm.llm_skip_reason(bool(run["no_llm"]))
    control.check()
    answer: str | None = None
    reason: str | None = None
    stopped: tuple[str, str] | None = None
    if skip is None:
        control.event("step_started", f"llm: answering with {run['model_id']}", {"step": "llm"})
        try:
            result = llm.answer_followup(
                snapshot=Path(run["snapshot_path"]), report_markdown=report_markdown,
                findings=[heuristics.Finding.from_json(item) for item in findings_json],
                history=[(role, content) for role, content in earlier], question=run["prompt"],
                model_id=run["model_id"], max_turns=run["max_turns"], on_event=control.llm_event,
                should_cancel=control.should_cancel,
            )
        except llm.LlmCancelled:
            stopped = control.stop_requested()
            if stopped is None or stopped[0] not in LLM_STOP_KEEPS_REPORT:
                raise
            note = _llm_stop_note(*stopped, run["time_limit_seconds"])
            _save_llm(control, ran=False, degraded=True, error=note, result=None)
            control.event("llm_stopped", f"LLM pass {note}; answering from the findings",
                          {"step": "llm", "status": stopped[0], "reason": stopped[1]})
            skip = f"the LLM pass {note}"
        except llm.LlmError as error:
            failure = _llm_error_text(error)
            _save_llm(control, ran=False, degraded=True, error=failure, result=None)
            control.event("llm_failed", f"LLM pass failed, answering from the findings: {failure}",
                          {"step": "llm", "error": failure})
            skip = f"the LLM pass failed ({failure})"
            reason = f"LLM pass failed ({failure}); answered from the findings (degraded)"
        else:
            _save_llm(control, ran=True, degraded=False, error=None, result=result)
            answer = report.render_llm_answer(answer=result.summary, model_id=run["model_id"],
                                              link_hosts=report.snapshot_link_hosts(Path(run["snapshot_path"])))
    else:
        control.event("llm_skipped", f"LLM pass skipped: {skip}", {"step": "llm", "reason": skip})
    if answer is None:
        answer = report.render_followup_answer(question=run["prompt"], findings=findings_json,
                                               unavailable_reason=skip or "")
    if stopped is not None:
        return _complete(control, run, answer, None, stopped[1], status=stopped[0])
    control.check()
    return _complete(control, run, answer, None, reason)


# ---------------------------------------------------------------------------------------------
# Reading runs


def get_run(store: Store, run_id: str, *, include_findings: bool = True) -> dict[str, Any]:
    """A run's metadata: status, agent, window, model, options, timings, LLM usage, trace dataset."""
    reap_stale_runs(store)
    with store.connect() as connection:
        cursor = connection.execute("SELECT * FROM runs WHERE run_id = $run_id", {"run_id": str(run_id).strip()})
        rows = traces.rows_as_dicts(cursor, json_columns=_JSON_COLUMNS)
    if not rows:
        raise NotFoundError(f"no run with id {str(run_id)!r}", hint="`halo-local run list` lists runs")
    return run_document(rows[0], include_findings=include_findings)


def list_runs(store: Store, *, limit: int = 50, conversation_id: str | None = None,
              schedule_id: str | None = None) -> list[dict[str, Any]]:
    """Runs newest first (without their findings)."""
    reap_stale_runs(store)
    with store.connect() as connection:
        cursor = connection.execute(sql_text("runs/list_runs.sql"), {
            "conversation_id": conversation_id, "schedule_id": schedule_id, "row_limit": int(limit)})
        rows = traces.rows_as_dicts(cursor, json_columns=_JSON_COLUMNS)
    return [run_document(row, include_findings=False) for row in rows]


def run_document(row: Mapping[str, Any], *, include_findings: bool) -> dict[str, Any]:
    """The `run get --json` document for one `runs` row (camelCase keys from `rows_as_dicts`)."""
    started, finished = row["startedAt"], row["finishedAt"]
    duration = None
    if started and finished:
        duration = (datetime.fromisoformat(finished[:-1]) - datetime.fromisoformat(started[:-1])).total_seconds()
    findings = row["findings"] or []
    document: dict[str, Any] = {
        "runId": row["runId"],
        "conversationId": row["conversationId"],
        "kind": row["kind"],
        "parentRunId": row["parentRunId"],
        "scheduleId": row["scheduleId"],
        "status": row["status"],
        "statusReason": row["statusReason"],
        "agentUuid": row["agentUuid"],
        "agentName": row["agentName"],
        "window": {"start": row["windowStart"], "end": row["windowEnd"]},
        "modelId": row["modelId"],
        "options": {
            "prompt": row["prompt"], "spanLimit": row["spanLimit"], "maxSubagentDepth": row["maxSubagentDepth"],
            "maxTurns": row["maxTurns"], "noLlm": row["noLlm"], "timeLimitSeconds": row["timeLimitSeconds"],
            "thresholds": row["thresholds"],
        },
        "timings": {
            "createdAt": row["createdAt"], "startedAt": started, "finishedAt": finished,
            "heartbeatAt": row["heartbeatAt"], "durationSeconds": duration,
        },
        "worker": {"pid": row["workerPid"], "host": row["workerHost"]},
        "cancel": ({"requestedAt": row["cancelRequestedAt"], "reason": row["cancelReason"]}
                   if row["cancelRequestedAt"] else None),
        "llm": {
            "ran": row["llmRan"], "skippedReason": row["llmSkipReason"], "degraded": row["degraded"],
            "error": row["llmError"], "modelId": row["modelId"], "inputTokens": row["llmInputTokens"],
            "outputTokens": row["llmOutputTokens"], "cacheReadTokens": row["llmCacheReadTokens"],
            "cacheWriteTokens": row["llmCacheWriteTokens"], "costUsd": row["llmCostUsd"],
            "turns": row["llmTurns"], "inventedIdsRemoved": row["llmInventedIdsRemoved"],
        },
        "traceDataset": {
            "path": row["snapshotPath"], "spans": row["snapshotSpans"], "traces": row["snapshotTraces"],
            "truncated": row["snapshotTruncated"], "spanLimit": row["spanLimit"],
            "spansInWindow": row["windowSpans"], "tracesInWindow": row["windowTraces"],
            "windowStart": row["windowStart"], "windowEnd": row["windowEnd"],
            "previousWindowSpans": row["previousSpans"],
        },
        "reportPath": row["reportPath"],
        "findingCount": len(findings),
    }
    if include_findings:
        document["findings"] = findings
        document["checks"] = row["checks"] or []
    return document


def run_events(store: Store, run_id: str, *, limit: int = 100, after_seq: int = 0) -> list[dict[str, Any]]:
    """The run's timeline: its latest `limit` events after `after_seq`, oldest first."""
    parse_int(limit, "--limit", 1, None)
    get_run(store, run_id, include_findings=False)
    with store.connect() as connection:
        cursor = connection.execute(sql_text("runs/events.sql"), {
            "run_id": str(run_id).strip(), "after_seq": int(after_seq), "row_limit": int(limit)})
        return traces.rows_as_dicts(cursor, json_columns=_JSON_COLUMNS)


def poll_run(
    store: Store,
    run_id: str,
    *,
    interval: float = 5.0,
    timeout: float = 1800.0,
    on_event: Callable[[dict[str, Any]], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[dict[str, Any], bool]:
    """Wait for a terminal state; returns (run, True) if `timeout` seconds passed first.

    `on_event` sees each new event once, in order, so a caller can show progress.
    """
    deadline = clock() + timeout
    seen = 0
    while True:
        run = get_run(store, run_id)
        if on_event is not None:
            for event in run_events(store, run_id, limit=10_000, after_seq=seen):
                seen = event["seq"]
                on_event(event)
        if run["status"] in TERMINAL_STATES:
            return run, False
        remaining = deadline - clock()
        if remaining <= 0:
            return run, True
        sleep(min(interval, remaining))


def cancel_run(
    store: Store,
    run_id: str,
    *,
    reason: str = DEFAULT_CANCEL_REASON,
    wait_seconds: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Ask a run to stop: recorded in the database and as a flag file the worker watches.

    A queued run is cancelled at once; a running one within a few seconds (also mid LLM call).
    Waits up to `wait_seconds` for the worker to confirm. Returns the run's document plus
    `cancelRequested`: False when the run had already ended (nothing was cancelled), else True.
    """
    text = str(reason).strip() or DEFAULT_CANCEL_REASON
    run = get_run(store, run_id, include_findings=False)
    if run["status"] in TERMINAL_STATES:
        return {**run, "cancelRequested": False}
    at = traces.utc_now()
    with _writing(store) as connection:
        connection.execute(
            "UPDATE runs SET cancel_requested_at = $at, cancel_reason = $reason"
            " WHERE run_id = $run_id AND cancel_requested_at IS NULL",
            {"at": at, "reason": text, "run_id": run["runId"]},
        )
        _insert_event(connection, run["runId"], "cancel_requested", f"cancel requested: {text}",
                      {"reason": text, "pid": os.getpid()}, at)
        status = connection.execute("SELECT status FROM runs WHERE run_id = $run_id",
                                    {"run_id": run["runId"]}).fetchall()[0][0]
        if status == "queued":
            _finish(connection, run["runId"], "cancelled", text, at)
    # The flag follows the recorded request, so that a worker which stops on it logs `cancelled` after
    # `cancel_requested`, never before.
    flag = store.runs_dir / run["runId"] / CANCEL_FILE
    flag.parent.mkdir(parents=True, exist_ok=True)
    flag.write_text(text, encoding="utf-8")
    deadline = time.monotonic() + wait_seconds
    while True:
        run = get_run(store, run_id, include_findings=False)
        if run["status"] in TERMINAL_STATES or time.monotonic() >= deadline:
            return {**run, "cancelRequested": True}
        sleep(0.25)


# ---------------------------------------------------------------------------------------------
# The main job: load files and analyse them in one go


def analyze_paths(
    store: Store,
    paths: Sequence[str | Path],
    *,
    agent_uuid: str | None = None,
    prompt: str | None = None,
    model_id: str | None = None,
    no_llm: bool = False,
    span_limit: int = DEFAULT_SPAN_LIMIT,
    skip_invalid: bool = False,
    on_event: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Load trace files and analyse their busiest agent (or `agent_uuid`) over the files' own time range.

    Returns the finished run's document (with its findings) plus `report` (the markdown),
    `otherAgents` (the agents in the files that were not analysed, for a hint) and `skipped` (per file,
    the records `skip_invalid` left out: path, records, firstLine, reason).
    """
    from halo_local.ingest import load_paths

    summary = load_paths(store, paths, skip_invalid=skip_invalid)
    with store.connect() as connection:
        cursor = connection.execute(sql_text("runs/agents_in_files.sql"), summary.file_keys())
        agents = traces.rows_as_dicts(cursor)
    if not agents:
        raise NoTracesError("the files hold no spans to analyse",
                            hint="`halo-local traces load PATH --json` shows what each file held")
    chosen = agents[0]
    if agent_uuid is not None:
        in_files = [{"agentUuid": item["agentUuid"], "name": item["agentName"], "serviceName": item["serviceName"]}
                    for item in agents]
        try:
            wanted = traces.resolve_agent(in_files, agent_uuid)["agentUuid"]
        except NotFoundError:
            traces.find_agent(store, agent_uuid)  # not stored at all: the usual "no agent" error
            raise NotFoundError(f"agent {agent_uuid!r} has no spans in these files",
                                hint=traces.closest_agents_hint(in_files, str(agent_uuid))) from None
        chosen = next(item for item in agents if item["agentUuid"] == wanted)
    start = datetime.fromisoformat(chosen["firstStart"][:-1]).replace(microsecond=0)
    end = datetime.fromisoformat(chosen["lastStart"][:-1]).replace(microsecond=0) + timedelta(seconds=1)
    run = create_run(store, agent_uuid=chosen["agentUuid"], prompt=prompt, window_start_at=start,
                     window_end_at=end, model_id=model_id, no_llm=no_llm, span_limit=span_limit,
                     wait=True, on_event=on_event)
    run = get_run(store, run["runId"])
    report_text = None
    if run["reportPath"]:
        report_text = Path(run["reportPath"]).read_text(encoding="utf-8")
    others = [{"agentUuid": item["agentUuid"], "name": item["agentName"], "spans": item["spans"]}
              for item in agents if item["agentUuid"] != chosen["agentUuid"]]
    return {**run, "report": report_text, "otherAgents": others, "skipped": summary.skipped_records()}


# ---------------------------------------------------------------------------------------------
# Worker entry point: python -m halo_local.runs RUN_ID


def worker_main(argv: Sequence[str]) -> int:
    """Execute one queued run (started detached by `start_worker`); logs go to the run's worker.log."""
    if len(argv) != 1:
        sys.stderr.write("usage: python -m halo_local.runs RUN_ID\n")
        return 2
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(message)s")
    try:
        status = execute_run(Store(), argv[0])
    except Exception as error:  # recorded as the run's statusReason, not left for "process is gone"
        log.exception("worker for run %s died", argv[0])
        _record_death(Store(), argv[0], error)
        return 1
    log.info("run %s ended %s", argv[0], status)
    return 0


def _record_death(store: Store, run_id: str, error: Exception) -> None:
    """End the run failed with the exception that killed its worker; when even that fails (disk full, a
    damaged database), the traceback in worker.log is what the next reader's reaper reports."""
    try:
        with _writing(store) as connection:
            _finish(connection, run_id, "failed", f"worker died of {describe_exception(error)}", traces.utc_now())
    except Exception:
        log.exception("could not record the failure of run %s", run_id)


if __name__ == "__main__":
    sys.exit(worker_main(sys.argv[1:]))
