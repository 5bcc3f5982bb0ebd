"""What a run needs while it executes: its timeline, heartbeat, cancellation and time limit.

`RunControl` is shared by the pipeline steps; `heartbeat` and `stop_on_signals` wrap a run's body.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb

from halo_local import clock as deadline_clock
from halo_local.common.timestamps import iso, utc_now
from halo_local.errors import HaloLocalError
from halo_local.resources import sql_text
from halo_local.runs.options import DEFAULT_CANCEL_REASON
from halo_local.runs.rows import CANCEL_FILE, finish, insert_event, minutes, status_of, writing
from halo_local.runs.run_document import OnEvent, RunEvent
from halo_local.store import Store

log = logging.getLogger("halo_local.runs")

HEARTBEAT_SECONDS_ENV = "HALO_HEARTBEAT_SECONDS"
HEARTBEAT_EVENT_EVERY = 15  # beats between two `heartbeat` events on the timeline (the column moves every beat)
# LLM events recorded with the run's next write rather than each in a transaction (and a database opening,
# ~20 ms) of its own: a turn's tool calls come in a burst. The next write comes with the next other event,
# the heartbeat (every few seconds) or the end of the run, so `run events` shows them at most a beat late.
HELD_LLM_EVENTS = frozenset({"tool_call"})


def heartbeat_seconds() -> float:
    return float(os.environ.get(HEARTBEAT_SECONDS_ENV, "2"))


class Stopped(Exception):
    """The run must end now with `status` (cancelled, timed_out, no_traces, failed)."""

    def __init__(self, status: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def describe_exception(error: BaseException) -> str:
    """`Type: message` of an exception on one line, as a run's statusReason records it."""
    return describe_exception_text(f"{type(error).__name__}: {error}")


def describe_exception_text(text: str) -> str:
    collapsed = " ".join(text.split())
    return collapsed if len(collapsed) <= 500 else collapsed[:499] + "…"


@dataclass
class RunControl:
    """What the worker needs while it runs: events, heartbeat, cancellation, the time limit."""

    store: Store
    run_id: str
    time_limit_seconds: int
    on_event: OnEvent | None = None
    active_connection: duckdb.DuckDBPyConnection | None = None
    _stop: tuple[str, str] | None = None
    _deadline: float = 0.0
    _held: list[tuple[str, str, Mapping[str, Any], datetime]] = field(default_factory=list)
    _held_lock: threading.Lock = field(default_factory=threading.Lock)

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
                self.request_stop("timed_out", f"the run exceeded its time limit of {minutes(self.time_limit_seconds)}")
        return self._stop

    def stop_requested_already(self) -> bool:
        """Whether a stop was already requested, without looking at the cancel file or the clock."""
        return self._stop is not None

    def should_cancel(self) -> bool:
        return self.stop_requested() is not None

    def check(self) -> None:
        stop = self.stop_requested()
        if stop is not None:
            raise Stopped(*stop)

    def event(self, kind: str, message: str, detail: Mapping[str, Any] | None = None, *, held: bool = False) -> None:
        """Record an event on the run's timeline. `held`: written with the run's next write instead of opening
        the database for it, for an event the run writes something else right after (a step's end, before the
        next step's start): each write opens and checkpoints the database (~20 ms of CPU)."""
        at = utc_now()
        if held:
            with self._held_lock:
                self._held.append((kind, message, dict(detail or {}), at))
        else:
            with self.writing() as connection:
                insert_event(connection, self.run_id, kind, message, detail, at)
        self._announce(kind, message, detail, at)

    def llm_event(self, kind: str, detail: Mapping[str, Any]) -> None:
        """Forward the LLM pass's events (turns, tool calls, retries) to the timeline; tool calls are held
        for the run's next write (HELD_LLM_EVENTS), the others written at once."""
        message = _describe_llm_event(kind, detail)
        if kind not in HELD_LLM_EVENTS:
            self.event(kind, message, detail)
            return
        at = utc_now()
        with self._held_lock:
            self._held.append((kind, message, dict(detail), at))
        self._announce(kind, message, detail, at)

    def _announce(self, kind: str, message: str, detail: Mapping[str, Any] | None, at: datetime) -> None:
        log.info("%s %s", kind, message)
        if self.on_event is not None:
            self.on_event(RunEvent(None, iso(at), kind, message, dict(detail or {})))

    @contextmanager
    def writing(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A write transaction of this run that first records the held events, in order (kept held if it
        fails): every write of a running run goes through here, so that its timeline stays in order."""
        with self._held_lock:
            held, self._held = self._held, []
        try:
            with writing(self.store) as connection:
                for kind, message, detail, at in held:
                    insert_event(connection, self.run_id, kind, message, detail, at)
                yield connection
        except BaseException:
            with self._held_lock:
                self._held[:0] = held
            raise

    def finish(self, status: str, reason: str | None, detail: Mapping[str, Any] | None = None) -> str:
        at = utc_now()
        with self.writing() as connection:
            ended = finish(connection, self.run_id, status, reason, at, detail)
        if ended and self.on_event is not None:
            self.on_event(RunEvent(None, iso(at), status, f"{status}: {reason}" if reason else status,
                                   dict(detail or {})))
        return status if ended else status_of(self.store, self.run_id)

    def beat(self, record_event: bool) -> None:
        """Move the heartbeat; a run some other process ended meanwhile must stop here too."""
        at = utc_now()
        with self.writing() as connection:
            updated = connection.execute(sql_text("runs/heartbeat.sql"),
                                         {"at": at, "run_id": self.run_id}).fetchall()[0][0]
            if updated and record_event:
                insert_event(connection, self.run_id, "heartbeat", "heartbeat: worker alive",
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
def heartbeat(control: RunControl) -> Iterator[None]:
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
def stop_on_signals(control: RunControl) -> Iterator[None]:
    """SIGTERM or Ctrl-C cancel the run (a second Ctrl-C interrupts at once)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum: int, _frame: Any) -> None:
        name = signal.Signals(signum).name
        if signum == signal.SIGINT and control.stop_requested_already():
            raise KeyboardInterrupt
        control.request_stop("cancelled", f"interrupted by {name}")

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
