"""A run's life through the CLI: create a detached worker, poll, get, events, the conversation and a
follow-up in real processes; runs that have not run yet, bad values and empty windows; the model list
and the agent picker. Workers stopped from outside are test_cli_run_workers.py's; analyze is
test_cli_analyze.py's."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from cli_runs_support import run_cli, run_get_details, run_json, window_args
from runs_support import HALO_FIXTURE, HALO_WINDOW, Terminal

from halo_local import cli, llm, runs, traces
from halo_local.store import Store


def test_create_poll_get_events_conversation_and_ask(module_capture_home: tuple[Path, str], monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    home, agent = module_capture_home
    created = run_json("run", "create", *window_args(agent), home=home)
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
    details = run_get_details(capsys.readouterr().out)
    assert (details["Findings"], details["Trace dataset"]) == ("-", "-")


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
    details = run_get_details(capsys.readouterr().out)
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
    assert run_get_details(capsys.readouterr().out)["LLM pass"] == "did not run"


def test_bad_values_fail_before_anything_is_created(module_capture_home: tuple[Path, str],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    _, agent = module_capture_home
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


def test_empty_window_waits_to_no_traces_with_its_exit_code(module_capture_home: tuple[Path, str]) -> None:
    home, agent = module_capture_home
    done = run_cli("run", "create", "--agent-uuid", agent, "--lookback-hours", "1", "--no-llm", "--wait", home=home)
    assert done.returncode == runs.POLL_EXIT_CODES["no_traces"] == 6
    assert "--window-start-at 2026-04-24T" in done.stdout and "--lookback-hours" in done.stdout
    run_id = done.stdout.split()[1]
    details = run_get_details(run_cli("run", "get", run_id, home=home).stdout)
    assert (details["Status"], details["Snapshot"], details["Findings"]) == ("no_traces", "-", "-")


def test_model_list_marks_the_default(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["model", "list", "--json"]) == 0
    models = json.loads(capsys.readouterr().out)
    assert sum(1 for item in models if item["default"]) == 1
    assert cli.main(["model", "list"]) == 0
    assert "(* default)" in capsys.readouterr().out


def test_picker_on_a_terminal_reads_a_number(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                            module_capture_home: tuple[Path, str]) -> None:
    home, agent = module_capture_home
    monkeypatch.setenv("HALO_HOME", str(home))
    monkeypatch.setattr(sys, "stdin", Terminal("1\n"))
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert cli.main(["run", "create", "--agent-time-range", "all", "--lookback-hours", "1", "--no-llm", "--wait"]) == 6
    captured = capsys.readouterr()
    assert "1. HaloCodeHelper" in captured.err or f"{agent}" in captured.err
    assert "no_traces" in captured.out

    assert cli.main(["run", "create", "--json"]) == 2
    assert "--agent-uuid is required" in capsys.readouterr().err
