"""End to end through the CLI in real processes: detached workers, poll, cancel, kill -9, concurrency."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from fake_anthropic import FakeAnthropic, FakeReply, text_message
from runs_support import HALO_FIXTURE, HALO_WINDOW, Terminal, wait_until

from halo_local import cli, llm, runs, traces
from halo_local.store import Store


def _env(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANTHROPIC_")}
    env.update({"HALO_HOME": str(home)})
    env.update(extra or {})
    return env


def run_cli(*args: str, home: Path, env: Mapping[str, str] | None = None,
            timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "halo_local.cli", *args], capture_output=True, text=True,
                          env=_env(home, env), timeout=timeout)


def run_json(*args: str, home: Path, env: Mapping[str, str] | None = None, code: int = 0) -> Any:
    done = run_cli(*args, "--json", home=home, env=env)
    assert done.returncode == code, (done.returncode, done.stdout, done.stderr)
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A home with HALO's realistic capture loaded through the CLI, and its agent's UUID."""
    home = tmp_path_factory.mktemp("cli-runs") / "home"
    summary = run_json("traces", "load", str(HALO_FIXTURE), home=home)
    assert summary["spansNew"] == 58
    agents = run_json("agent", "list", "--time-range", "all", home=home)
    return home, agents[0]["agentUuid"]


@pytest.fixture
def llm_server() -> Iterator[tuple[FakeAnthropic, dict[str, str]]]:
    """The fake Messages API and the environment that points a worker at it."""
    with FakeAnthropic() as fake:
        yield fake, {"ANTHROPIC_API_KEY": "test-key-not-real", "ANTHROPIC_BASE_URL": fake.base_url,
                     "HALO_LLM_RETRY_DELAY": "0.01", "HALO_LLM_MAX_RETRIES": "0"}


def _window_args(agent: str) -> list[str]:
    return ["--agent-uuid", agent, "--window-start-at", HALO_WINDOW[0], "--window-end-at", HALO_WINDOW[1]]


def test_create_poll_get_events_conversation_and_ask(loaded: tuple[Path, str], monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    home, agent = loaded
    created = run_json("run", "create", *_window_args(agent), home=home)
    assert created["status"] in ("queued", "running")  # read back after its worker started: on a loaded machine
    # the worker may already have marked it running; either way create returned without waiting for it
    assert created["runId"].startswith("run_") and created["conversationId"].startswith("conv_")

    polled = run_cli("run", "poll", created["runId"], "--interval", "0.5", home=home)
    assert polled.returncode == 0, polled.stderr
    assert "completed" in polled.stdout and "started" in polled.stderr

    run = run_json("run", "get", created["runId"], home=home)
    assert run["status"] == "completed"
    assert run["llm"]["skippedReason"] == "ANTHROPIC_API_KEY is not set"
    assert (run["traceDataset"]["spans"], run["traceDataset"]["traces"], run["traceDataset"]["truncated"]) == (58, 3, False)
    errors = [item for item in run["findings"] if item["category"] == "error"]
    assert any("list_files" in (item["subject"] or "") for item in errors)
    assert {"category", "subject", "severity", "exampleTraceIds", "key"} <= set(run["findings"][0])

    payload = run_json("conversation", "get", created["conversationId"], home=home)
    report_text = [message for message in payload["messages"] if message["role"] == "assistant"][0]["content"]
    assert report_text == Path(run["reportPath"]).read_text(encoding="utf-8")
    assert {"role", "content"} <= set(payload["messages"][0])
    assert payload["run"]["runId"] == created["runId"] and payload["traceDataset"]["spans"] == 58

    # Read-only views in this process (the worker is gone; nothing holds the database).
    monkeypatch.setenv("HALO_HOME", str(home))
    assert cli.main(["run", "events", created["runId"], "--json"]) == 0
    kinds = [event["kind"] for event in json.loads(capsys.readouterr().out)]
    assert kinds[0] == "queued" and kinds[-1] == "completed"
    assert {"started", "heartbeat", "step_started", "step_finished", "llm_skipped"} <= set(kinds)
    assert cli.main(["conv", "get", created["conversationId"]]) == 0
    assert report_text.strip() in capsys.readouterr().out

    asked = run_cli("conversation", "ask", created["conversationId"], "why does list_files fail?", home=home)
    assert asked.returncode == 0, asked.stderr
    assert "LLM pass was unavailable" in asked.stdout and "list_files" in asked.stdout
    assert cli.main(["conversation", "get", created["conversationId"], "--json"]) == 0
    after = json.loads(capsys.readouterr().out)
    assert [message["role"] for message in after["messages"]] == ["user", "assistant", "user", "assistant"]
    assert cli.main(["conversation", "list", "--limit", "50", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert created["conversationId"] in [item["conversationId"] for item in listed]
    followup = next(item.to_json() for item in runs.list_runs(Store(home)) if item.kind == "followup")
    assert cli.main(["run", "get", followup["runId"]]) == 0
    details = _details(capsys.readouterr().out)
    assert (details["Findings"], details["Trace dataset"]) == ("-", "-")


def _details(text: str) -> dict[str, str]:
    """The `Label   value` lines of `run get`'s human output."""
    pairs = (re.split(r"\s{2,}", line, maxsplit=1) for line in text.splitlines() if "  " in line)
    return {pair[0]: pair[1] for pair in pairs if len(pair) == 2}


def test_run_get_of_a_run_that_has_not_run_yet_or_never_will(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HALO_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.setattr(llm, "llm_skip_reason", lambda no_llm: None)
    monkeypatch.setattr(runs.worker, "start_worker", lambda store, run_id: 0)
    store = Store()
    assert cli.main(["traces", "load", str(HALO_FIXTURE), "--json"]) == 0
    agent = traces.list_agents(store, time_range="all")[0]["agentUuid"]
    queued = runs.create_run(store, agent_uuid=agent, window_start_at=HALO_WINDOW[0],
                             window_end_at=HALO_WINDOW[1]).to_json()
    capsys.readouterr()

    assert cli.main(["run", "get", queued["runId"]]) == 0
    details = _details(capsys.readouterr().out)
    assert details["LLM pass"] == "pending"
    assert (details["Trace dataset"], details["Snapshot"], details["Findings"]) == ("-", "-", "-")

    assert cli.main(["run", "cancel", queued["runId"], "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["cancelRequested"] is True
    assert cli.main(["run", "cancel", queued["runId"], "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert (again["status"], again["cancelRequested"]) == ("cancelled", False)
    assert cli.main(["run", "cancel", queued["runId"]]) == 0
    assert capsys.readouterr().out.startswith(f"Nothing to cancel: run {queued['runId']} had already ended cancelled.")
    assert cli.main(["run", "get", queued["runId"]]) == 0
    assert _details(capsys.readouterr().out)["LLM pass"] == "did not run"


def test_bad_values_fail_before_anything_is_created(loaded: tuple[Path, str],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    _, agent = loaded
    assert cli.main(["traces", "load", str(HALO_FIXTURE), "--json"]) == 0
    capsys.readouterr()
    cases = [
        (["run", "create"], 2, "--agent-uuid is required"),
        (["run", "create", "--agent-uuid", agent, "--max-turns", "0"], 2, "--max-turns takes a number from 1 to 100; got 0"),
        (["run", "create", "--agent-uuid", agent, "--max-subagent-depth", "9"], 2, "--max-subagent-depth"),
        (["run", "create", "--agent-uuid", agent, "--window-start-at", "soon"], 2, "--window-start-at takes"),
        (["run", "create", "--agent-uuid", agent, "--window-start-at", HALO_WINDOW[0], "--window-end-at",
          HALO_WINDOW[1], "--lookback-hours", "48"], 2, "--lookback-hours 48 conflicts with --window-start-at"),
        (["run", "create", "--agent-uuid", agent, "--window-start-at", HALO_WINDOW[0], "--lookback-hours", "2"],
         2, "--lookback-hours 2 conflicts with --window-start-at"),
        (["run", "create", "--agent-uuid", agent, "--model-id", "gpt-99"], 2, "unknown model id"),
        (["run", "create", "--agent-uuid", agent, "--thresholds", "nosuch=4"], 2,
         "Error: --thresholds: unknown heuristics threshold 'nosuch'"),
        (["run", "create", "--agent-uuid", agent, "--thresholds", "loop_min_repeats=abc"], 2,
         "Error: --thresholds: threshold 'loop_min_repeats' must be a number, not 'abc'"),
        (["run", "create", "--agent-time-range", "7x"], 2, "Error: --agent-time-range must be one of"),
        (["run", "create", "--agent-uuid", agent[:-2] + "00"], 1, f"Hint: known agents: {agent}"),
    ]
    for args, code, message in cases:
        assert cli.main(args) == code, args
        captured = capsys.readouterr()
        assert message in captured.err, (args, captured.err)
        assert captured.out == ""
    assert cli.main(["run", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_empty_window_waits_to_no_traces_with_its_exit_code(loaded: tuple[Path, str]) -> None:
    home, agent = loaded
    done = run_cli("run", "create", "--agent-uuid", agent, "--lookback-hours", "1", "--no-llm", "--wait", home=home)
    assert done.returncode == runs.POLL_EXIT_CODES["no_traces"] == 6
    assert "--window-start-at 2026-04-24T" in done.stdout and "--lookback-hours" in done.stdout
    run_id = done.stdout.split()[1]
    details = _details(run_cli("run", "get", run_id, home=home).stdout)
    assert (details["Status"], details["Snapshot"], details["Findings"]) == ("no_traces", "-", "-")


def _start_held_run(home: Path, agent: str, server: FakeAnthropic, env: Mapping[str, str]) -> dict[str, Any]:
    """A detached run stuck inside an LLM call (the fake server holds its answer)."""
    server.push(FakeReply(body=text_message("late"), held=True))
    created = run_json("run", "create", *_window_args(agent), home=home, env=env)
    store = Store(home)

    def in_llm_call() -> bool:
        if server.requests:
            return True
        run = runs.get_run(store, created["runId"], include_findings=False).to_json()
        assert run["status"] in runs.ACTIVE_STATES, f"the run ended before its LLM call: {run['statusReason']}"
        return False

    wait_until(in_llm_call, step=0.5)
    return created


def test_poll_timeout_then_cancel_mid_llm_call(loaded: tuple[Path, str],
                                               llm_server: tuple[FakeAnthropic, dict[str, str]]) -> None:
    home, agent = loaded
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


def test_sigkilled_worker_is_marked_failed_and_sigterm_cancels(loaded: tuple[Path, str],
                                                               llm_server: tuple[FakeAnthropic, dict[str, str]]) -> None:
    home, agent = loaded
    server, env = llm_server
    killed = _start_held_run(home, agent, server, env)
    pid = run_json("run", "get", killed["runId"], home=home)["worker"]["pid"]
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not runs.process_alive(pid), timeout=30)

    after = run_json("run", "get", killed["runId"], home=home)
    assert after["status"] == "failed"
    assert after["statusReason"].startswith("worker stopped (killed or crashed)")
    assert run_cli("run", "poll", killed["runId"], home=home).returncode == 3

    stopped = _start_held_run(home, agent, server, env)
    os.kill(run_json("run", "get", stopped["runId"], home=home)["worker"]["pid"], signal.SIGTERM)
    polled = run_cli("run", "poll", stopped["runId"], "--interval", "0.5", "--json", home=home)
    assert polled.returncode == 4, polled.stdout
    assert json.loads(polled.stdout)["statusReason"] == "interrupted by SIGTERM"


def test_many_cli_processes_at_once_never_show_a_lock_error(loaded: tuple[Path, str]) -> None:
    home, agent = loaded
    commands = [
        ["run", "create", *_window_args(agent), "--no-llm", "--wait", "--json"],
        ["run", "create", *_window_args(agent), "--no-llm", "--wait", "--json"],
        ["run", "create", *_window_args(agent), "--no-llm", "--json"],
        ["traces", "load", str(HALO_FIXTURE), "--json"],
        ["run", "list", "--json"],
        ["conversation", "list", "--json"],
        ["agent", "list", "--time-range", "all", "--json"],
    ]
    processes = [subprocess.Popen([sys.executable, "-m", "halo_local.cli", *args], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=_env(home)) for args in commands]
    outputs = [process.communicate(timeout=600) for process in processes]
    for args, process, (stdout, stderr) in zip(commands, processes, outputs):
        assert process.returncode == 0, (args, stderr)
        waiting = "Waiting for the database: another halo-local process is using it (HALO_LOCK_TIMEOUT=60s) ...\n"
        # A notice on a busy machine, never an error. Under load a command may wait more than once (one
        # notice per wait); that a wait says so once is proven where test_cli.py holds the lock on purpose.
        assert "lock" not in stderr.replace(waiting, "").lower() and "Error" not in stderr, (args, stderr)
        json.loads(stdout)
    detached = json.loads(outputs[2][0])["runId"]
    assert run_cli("run", "poll", detached, "--interval", "0.5", home=home).returncode == 0


def test_model_list_marks_the_default(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["model", "list", "--json"]) == 0
    models = json.loads(capsys.readouterr().out)
    assert sum(1 for item in models if item["default"]) == 1
    assert cli.main(["model", "list"]) == 0
    assert "(* default)" in capsys.readouterr().out


def test_picker_on_a_terminal_reads_a_number(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                            loaded: tuple[Path, str]) -> None:
    home, agent = loaded
    monkeypatch.setenv("HALO_HOME", str(home))
    monkeypatch.setattr(sys, "stdin", Terminal("1\n"))
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert cli.main(["run", "create", "--agent-time-range", "all", "--lookback-hours", "1", "--no-llm", "--wait"]) == 6
    captured = capsys.readouterr()
    assert "1. HaloCodeHelper" in captured.err or f"{agent}" in captured.err
    assert "no_traces" in captured.out

    assert cli.main(["run", "create", "--json"]) == 2
    assert "--agent-uuid is required" in capsys.readouterr().err


@pytest.mark.parametrize("on_terminal", [False, True])
def test_run_create_wait_and_analyze_show_progress_only_on_a_terminal(
        on_terminal: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        loaded: tuple[Path, str], tmp_path: Path) -> None:
    home, agent = loaded
    monkeypatch.setattr(sys.stderr, "isatty", lambda: on_terminal)
    commands = [(home, ["run", "create", *_window_args(agent), "--no-llm", "--wait"]),
                (tmp_path / "fresh", ["analyze", str(HALO_FIXTURE), "--no-llm"])]
    for command_home, args in commands:
        monkeypatch.setenv("HALO_HOME", str(command_home))
        assert cli.main(args) == 0, args
        progress = capsys.readouterr().err
        assert ("started" in progress) is on_terminal, (args, progress)
        if not on_terminal:
            assert progress == "", (args, progress)


def test_analyze_loads_and_reports_in_one_go(tmp_path: Path) -> None:
    done = run_cli("analyze", str(HALO_FIXTURE), home=tmp_path / "home")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("# Trace analysis: ")
    assert "LLM pass: skipped (ANTHROPIC_API_KEY is not set)" in done.stdout


def _main(args: list[str], home: Path, monkeypatch: pytest.MonkeyPatch,
          capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """`halo-local ARGS` in this process on `home`: exit code, stdout, stderr (the real-process path of
    analyze is test_analyze_loads_and_reports_in_one_go's)."""
    monkeypatch.setenv("HALO_HOME", str(home))
    code = cli.main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_analyze_skip_invalid_as_its_hint_suggests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_text(HALO_FIXTURE.read_text() + '{"trace_id": "ab", "span_id": \n')
    code, _, err = _main(["analyze", str(damaged)], tmp_path / "home", monkeypatch, capsys)
    assert code == 1 and "--skip-invalid" in err
    code, out, err = _main(["analyze", str(damaged), "--skip-invalid", "--json"], tmp_path / "home",
                           monkeypatch, capsys)
    assert code == 0, err
    document = json.loads(out)
    assert document["traceDataset"]["spans"] == 58
    bad_line = len(HALO_FIXTURE.read_text().splitlines()) + 1
    [skipped] = document["skipped"]
    assert (skipped["path"], skipped["records"], skipped["firstLine"]) == (str(damaged), 1, bad_line)
    assert skipped["reason"]
    notice = f"Warning: left out 1 record of {damaged}: first at line {bad_line}: {skipped['reason']}"
    assert notice in err.splitlines()
    assert len(document["findings"]) == document["findingCount"] > 0

    code, out, err = _main(["analyze", str(damaged), "--skip-invalid"], tmp_path / "fresh", monkeypatch, capsys)
    assert code == 0, err
    assert notice in err.splitlines() and "left out 1 record" not in out


def test_analyze_a_file_whose_spans_were_loaded_from_other_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """The same traces in another format, after the sample traces (which hold them) were analysed."""
    same_traces = HALO_FIXTURE.with_name("realistic_traces.otlp.json")

    def analyze(path: Path, home: Path) -> Any:
        code, out, err = _main(["analyze", str(path), "--no-llm", "--json"], home, monkeypatch, capsys)
        assert code == 0, err
        return json.loads(out)

    alone = analyze(same_traces, tmp_path / "alone")
    home = tmp_path / "home"
    analyze(Path(__file__).parent.parent / "sample_traces", home)
    after = analyze(same_traces, home)
    assert (after["status"], after["agentUuid"], after["window"], after["otherAgents"]) == (
        "completed", alone["agentUuid"], alone["window"], [])


def test_analyze_files_without_spans_exits_no_traces(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text('{"resourceSpans": []}')
    assert cli.main(["analyze", str(empty), "--no-llm"]) == runs.POLL_EXIT_CODES["no_traces"]
    assert capsys.readouterr().err.startswith("Error: the files hold no spans to analyse\n")
