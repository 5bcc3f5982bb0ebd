"""A worker that dies of an exception leaves that exception as its run's statusReason, whether it could
record it itself or the next reader finds it at the end of worker.log."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from runs_support import agent_traces, create_run, insert_spans

from halo_local import runs
from halo_local.store import Store


@pytest.fixture
def queued_run(store: Store, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    insert_spans(store, agent_traces(3))
    monkeypatch.setattr(runs.worker, "start_worker", lambda store, run_id: 0)
    return create_run(store, no_llm=True, wait=False)


def test_a_worker_dying_of_an_exception_records_it(store: Store, queued_run: dict[str, Any]) -> None:
    """A bad HALO_HEARTBEAT_SECONDS breaks the worker after it marked the run running and before the run's
    own error handling: the run used to say only "process is gone"."""
    run_id = queued_run["runId"]
    log_path = store.runs_dir / run_id / runs.WORKER_LOG
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log_file:
        done = subprocess.run([sys.executable, "-m", "halo_local.runs", run_id], stdout=log_file,
                              stderr=subprocess.STDOUT, timeout=120,
                              env={**os.environ, "HALO_HOME": str(store.home), "HALO_HEARTBEAT_SECONDS": "soon"})
    assert done.returncode == 1
    run = runs.get_run(store, run_id).to_json()
    assert run["status"] == "failed"
    assert run["statusReason"] == "worker died of ValueError: could not convert string to float: 'soon'"


def test_the_reaper_reports_the_exception_a_worker_log_ends_with(store: Store, queued_run: dict[str, Any]) -> None:
    run_id = queued_run["runId"]
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(finished.stdout)
    log_path: Path = store.runs_dir / run_id / runs.WORKER_LOG
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.write_text(
        "2026-04-24 18:00:00,000 INFO snapshot written\n"
        "2026-04-24 18:00:01,000 ERROR could not record the failure of run x\n"
        "Traceback (most recent call last):\n"
        '  File "/x/runs.py", line 1, in worker_main\n'
        "    status = execute_run(Store(), argv[0])\n"
        "_duckdb.IOException: IO Error: Could not write file \"/h/halo.duckdb.wal\":\n"
        "No space left on device\n", encoding="utf-8")
    with store.transaction() as connection:
        connection.execute(
            "UPDATE runs SET status = 'running', worker_pid = $pid, worker_host = $host, started_at = created_at,"
            " heartbeat_at = created_at WHERE run_id = $run_id",
            {"pid": dead_pid, "host": socket.gethostname(), "run_id": run_id})
    reason = runs.get_run(store, run_id).status_reason
    assert reason.startswith('worker died of _duckdb.IOException: IO Error: Could not write file "/h/halo.duckdb.wal": '
                             f"No space left on device (process {dead_pid} is gone; last heartbeat ")


def test_a_log_that_goes_on_after_a_handled_traceback_names_no_cause(tmp_path: Path) -> None:
    log_path = tmp_path / "worker.log"
    log_path.write_text("Traceback (most recent call last):\n  File \"x\", line 1\nValueError: handled\n"
                        "2026-04-24 18:00:01,000 INFO run r ended completed\n", encoding="utf-8")
    assert runs.worker._fatal_exception(log_path) is None
    assert runs.worker._fatal_exception(tmp_path / "missing.log") is None
