"""Detached workers stopped from outside, through real processes: a poll that times out, a cancel in the
middle of an LLM call, kill -9 and SIGTERM of the worker, and many CLI processes on one database at once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from cli_runs_support import cli_env, run_cli, run_json, window_args
from fake_anthropic import FakeAnthropic, FakeReply, text_message
from runs_support import HALO_FIXTURE, wait_until

from halo_local import runs
from halo_local.store import Store


@pytest.fixture
def llm_server() -> Iterator[tuple[FakeAnthropic, dict[str, str]]]:
    """The fake Messages API and the environment that points a worker at it."""
    with FakeAnthropic() as fake:
        yield fake, {"ANTHROPIC_API_KEY": "test-key-not-real", "ANTHROPIC_BASE_URL": fake.base_url,
                     "HALO_LLM_RETRY_DELAY": "0.01", "HALO_LLM_MAX_RETRIES": "0"}


def _start_held_run(home: Path, agent: str, server: FakeAnthropic, env: Mapping[str, str]) -> dict[str, Any]:
    """A detached run stuck inside an LLM call (the fake server holds its answer)."""
    server.push(FakeReply(body=text_message("late"), held=True))
    created = run_json("run", "create", *window_args(agent), home=home, env=env)
    store = Store(home)
    next_status_check = time.monotonic()

    def in_llm_call() -> bool:
        """The server saw the request; meanwhile, about once a second, the run must still be active (each
        look opens the database the worker writes to, so it is not done at every step)."""
        nonlocal next_status_check
        if server.requests:
            return True
        if time.monotonic() >= next_status_check:
            run = runs.get_run(store, created["runId"], include_findings=False).to_json()
            assert run["status"] in runs.ACTIVE_STATES, f"the run ended before its LLM call: {run['statusReason']}"
            next_status_check = time.monotonic() + 1.0
        return False

    wait_until(in_llm_call)
    return created


def test_poll_timeout_then_cancel_mid_llm_call(module_capture_home: tuple[Path, str],
                                               llm_server: tuple[FakeAnthropic, dict[str, str]]) -> None:
    home, agent = module_capture_home
    server, env = llm_server
    created = _start_held_run(home, agent, server, env)

    waited = run_cli("run", "poll", created["runId"], "--interval", "0.1", "--timeout", "0.5", home=home)
    assert waited.returncode == runs.POLL_TIMEOUT_EXIT_CODE == 7

    cancelled = run_json("run", "cancel", created["runId"], "--reason", "enough for today", home=home)
    assert cancelled["cancelRequested"] is True  # its wait for the worker is bounded: poll, not its status, decides
    polled = run_cli("run", "poll", created["runId"], "--interval", "0.5", "--json", home=home)
    assert polled.returncode == 4
    assert json.loads(polled.stdout)["statusReason"] == "enough for today"
    assert server.answered == 0
    kinds = [event["kind"] for event in run_json("run", "events", created["runId"], home=home)]
    assert kinds.index("cancel_requested") < kinds.index("llm_stopped") < kinds.index("cancelled") == len(kinds) - 1
    assert "llm_turn" not in kinds
    report_text = Path(run_json("run", "get", created["runId"], home=home)["reportPath"]).read_text(encoding="utf-8")
    assert "LLM pass: stopped because the run was cancelled: enough for today. " in report_text


def test_sigkilled_worker_is_marked_failed_and_sigterm_cancels(module_capture_home: tuple[Path, str],
                                                               llm_server: tuple[FakeAnthropic, dict[str, str]]) -> None:
    home, agent = module_capture_home
    server, env = llm_server
    killed = _start_held_run(home, agent, server, env)
    pid = run_json("run", "get", killed["runId"], home=home)["worker"]["pid"]
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not runs.process_alive(pid))

    after = run_json("run", "get", killed["runId"], home=home)
    assert after["status"] == "failed"
    assert after["statusReason"].startswith("worker stopped (killed or crashed)")
    assert run_cli("run", "poll", killed["runId"], home=home).returncode == 3

    stopped = _start_held_run(home, agent, server, env)
    os.kill(run_json("run", "get", stopped["runId"], home=home)["worker"]["pid"], signal.SIGTERM)
    polled = run_cli("run", "poll", stopped["runId"], "--interval", "0.5", "--json", home=home)
    assert polled.returncode == 4, polled.stdout
    assert json.loads(polled.stdout)["statusReason"] == "interrupted by SIGTERM"


def test_many_cli_processes_at_once_never_show_a_lock_error(module_capture_home: tuple[Path, str]) -> None:
    home, agent = module_capture_home
    # Two runs write all along (one here with --wait, one in its detached worker) while a load writes and
    # three readers read: a second --wait run (~1.5 CPU-s) added no kind of contention these lack.
    commands = [
        ["run", "create", *window_args(agent), "--no-llm", "--wait", "--json"],
        ["run", "create", *window_args(agent), "--no-llm", "--json"],
        ["traces", "load", str(HALO_FIXTURE), "--json"],
        ["run", "list", "--json"],
        ["conversation", "list", "--json"],
        ["agent", "list", "--time-range", "all", "--json"],
    ]
    processes = [subprocess.Popen([sys.executable, "-m", "halo_local.cli", *args], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=cli_env(home)) for args in commands]
    outputs = [process.communicate(timeout=600) for process in processes]
    for args, process, (stdout, stderr) in zip(commands, processes, outputs):
        assert process.returncode == 0, (args, stderr)
        waiting = "Waiting for the database: another halo-local process is using it (HALO_LOCK_TIMEOUT=60s) ...\n"
        # A notice on a busy machine, never an error. Under load a command may wait more than once (one
        # notice per wait); that a wait says so once is proven where test_cli.py holds the lock on purpose.
        assert "lock" not in stderr.replace(waiting, "").lower() and "Error" not in stderr, (args, stderr)
        json.loads(stdout)
    detached = json.loads(outputs[1][0])["runId"]
    assert run_cli("run", "poll", detached, "--interval", "0.5", home=home).returncode == 0
