"""Detached workers and liveness: start `python -m halo_local.runs RUN_ID`, tell whether its process
is alive, and end the runs whose worker is gone, silent or over its time limit.

Tuning (environment): HALO_RUN_STALE_SECONDS (default 60) of silence after which a running run is
declared dead.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from halo_local.common.rows import stored_rows
from halo_local.common.timestamps import iso, utc_now
from halo_local.resources import sql_text
from halo_local.runs.control import describe_exception_text
from halo_local.runs.rows import WORKER_LOG, finish, minutes, writing
from halo_local.store import Store

STALE_SECONDS_ENV = "HALO_RUN_STALE_SECONDS"
TIME_LIMIT_GRACE_SECONDS = 60  # past its limit plus this, a run whose worker did not stop it is marked timed_out

# The folder that holds the `halo_local` package, put on the worker's PYTHONPATH.
_PACKAGE_PARENT = Path(__file__).resolve().parent.parent.parent


def stale_after_seconds() -> float:
    """How long a running run may go without a heartbeat before it is declared dead."""
    return float(os.environ.get(STALE_SECONDS_ENV, "60"))


def start_worker(store: Store, run_id: str) -> int:
    """Start `python -m halo_local.runs RUN_ID` in its own session, logging to the run's folder."""
    run_dir = store.runs_dir / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    python_path = os.pathsep.join(filter(None, [str(_PACKAGE_PARENT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "HALO_HOME": str(store.home), "PYTHONPATH": python_path}
    with (run_dir / WORKER_LOG).open("ab") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "halo_local.runs", run_id],
            stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
            start_new_session=True, env=env, close_fds=True,
        )
    with writing(store) as connection:
        connection.execute(sql_text("runs/record_worker.sql"), {
            "pid": process.pid, "host": socket.gethostname(), "ticks": process_start_ticks(process.pid),
            "run_id": run_id,
        })
    return process.pid


def process_start_ticks(pid: int) -> int | None:
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
    moment = now or utc_now()
    stale = timedelta(seconds=stale_after_seconds())
    host = socket.gethostname()
    with store.connect() as connection:
        active = stored_rows(connection.execute(sql_text("runs/active_runs.sql")))
    verdicts: list[tuple[str, str, str]] = []
    for run in active:
        verdict = _verdict(run, moment, stale, host, store.runs_dir)
        if verdict is not None:
            verdicts.append((run["run_id"], *verdict))
    ended = []
    for run_id, status, reason in verdicts:
        with writing(store) as connection:
            if finish(connection, run_id, status, reason, moment):
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
            return "timed_out", f"the run exceeded its time limit of {minutes(run['time_limit_seconds'])}"
    elif now - run["created_at"] > stale and (pid is None or not local):
        return "failed", f"worker stopped (killed or crashed): it never started within {stale.total_seconds():.0f}s"
    return None


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
