"""`halo-local schedule ...` through the CLI: flags as fire delivers them, confirmation, and a real tick."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from runs_support import BASE, HALO_FIXTURE, Terminal, insert_spans, span

from halo_local import cli, runs, traces, usecases
from halo_local.store import Store


@pytest.fixture(autouse=True)
def known_agent(isolated_home: Path) -> None:
    """`agent-1` is stored: creating a schedule checks that its agent exists."""
    insert_spans(Store(isolated_home), [span(0, 0, start=BASE, agent_uuid="agent-1")])


def run_json(capsys: pytest.CaptureFixture[str], *args: str, code: int = 0) -> Any:
    assert cli.main([*args, "--json"]) == code, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def create(capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    return run_json(capsys, "schedule", "create", "--title", "Nightly", "--agent-uuid", "agent-1",
                    "--frequency", "daily", "--minutes", "0,30", "--hours", "9", *extra)


def test_create_takes_comma_lists_and_repeated_sources(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("exports/a.jsonl", "data/b.json"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).touch()
    created = create(capsys, "--source", "exports/*.jsonl", f"--source={tmp_path}/data/b.json", "--enabled", "false",
                     "--max-turns", "7", "--timezone", "Europe/Paris")
    assert created["scheduleId"].startswith("sch_") and created["minutes"] == [0, 30] and created["hours"] == [9]
    assert created["sources"] == [str(tmp_path / "exports" / "*.jsonl"), str(tmp_path / "data" / "b.json")]
    assert (created["enabled"], created["maxTurns"], created["timezone"], created["nextRunAt"]) == (
        False, 7, "Europe/Paris", None)
    fetched = run_json(capsys, "schedule", "get", created["scheduleId"])
    assert fetched["nextRunTimes"] == []
    resumed = run_json(capsys, "schedule", "update", created["scheduleId"], "--enabled", "true", "--source", "")
    assert resumed["enabled"] is True and resumed["sources"] == [] and resumed["nextRunAt"]
    fetched = run_json(capsys, "schedule", "get", created["scheduleId"])
    assert len(fetched["nextRunTimes"]) == 5 and fetched["nextRunTimes"][0] == fetched["nextRunAt"]
    assert cli.main(["schedule", "get", created["scheduleId"]]) == 0
    assert "Next fire times:" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["--frequency", "daily", "--minutes", "0"], "Error: --hours is required for a daily schedule"),
    (["--frequency", "hourly", "--minutes", "0", "--hours", "3"], "Error: --hours does not apply to an hourly schedule"),
    (["--frequency", "daily", "--minutes", "61", "--hours", "3"], "Error: --minutes takes numbers from 0 to 59; got 61"),
    (["--frequency", "weekly", "--minutes", "0", "--hours", "3"], "Error: --days-of-week is required for a weekly"),
])
def test_invalid_combinations_exit_2_naming_the_flag(capsys: pytest.CaptureFixture[str], args: list[str],
                                                     message: str) -> None:
    assert cli.main(["schedule", "create", "--title", "T", "--agent-uuid", "a", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith(message)


def test_archive_confirms_or_needs_yes_then_unarchive(capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    schedule_id = create(capsys)["scheduleId"]
    assert cli.main(["schedule", "archive", schedule_id]) == 2  # no terminal under pytest
    assert "pass --yes" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", Terminal("n\n"))
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert cli.main(["schedule", "archive", schedule_id]) == 1
    assert "Not archived." in capsys.readouterr().out
    monkeypatch.setattr(sys, "stdin", Terminal("y\n"))
    assert cli.main(["schedule", "archive", schedule_id]) == 0
    assert f"Archive schedule {schedule_id} (Nightly)? [y/N]" in capsys.readouterr().err
    assert run_json(capsys, "schedule", "list") == []
    assert [item["archived"] for item in run_json(capsys, "schedule", "list", "--include-archived")] == [True]
    assert run_json(capsys, "schedule", "unarchive", schedule_id)["archived"] is False
    other = create(capsys)["scheduleId"]
    assert run_json(capsys, "schedule", "archive", other, "-y")["archived"] is True


def test_cron_prints_an_absolute_crontab_line(capsys: pytest.CaptureFixture[str], isolated_home: Path) -> None:
    document = run_json(capsys, "schedule", "cron")
    line = document["cronLine"]
    assert line.startswith(f"* * * * * HALO_HOME={isolated_home} /") and " schedule tick >> " in line
    assert line.endswith(f"{isolated_home / 'schedule-tick.log'} 2>&1")
    executable = line.split()[6]
    assert Path(executable).is_absolute() and Path(executable).name == "halo-local"


def test_tick_loads_sources_runs_to_a_report_and_fires_a_slot_once(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        halo_capture_home: Path) -> None:
    agent_uuid = traces.list_agents(Store(halo_capture_home), time_range="all")[0]["agentUuid"]  # HALO_FIXTURE's
    exports = tmp_path / "exports"
    exports.mkdir()
    shutil.copy(HALO_FIXTURE, exports / "today.jsonl")
    monkeypatch.chdir(tmp_path)
    created = run_json(capsys, "schedule", "create", "--title", "Hourly health", "--agent-uuid", agent_uuid,
                       "--frequency", "hourly", "--minutes", "0", "--lookback-hours", str(24 * 365 * 10),
                       "--source", "exports/*.jsonl")
    schedule_id, slot = created["scheduleId"], created["nextRunAt"]
    assert run_json(capsys, "schedule", "tick", "--now", "2000-01-01T00:00:00Z")["fired"] == []

    ticked = run_json(capsys, "schedule", "tick", "--now", slot)
    [fired] = ticked["fired"]
    assert ticked["heuristicsOnly"] is True
    assert (fired["scheduleId"], fired["slotAt"], fired["error"]) == (schedule_id, slot, None)
    assert cli.main(["run", "poll", fired["runId"], "--interval", "0.5"]) == 0
    capsys.readouterr()
    run = runs.get_run(Store(), fired["runId"]).to_json()
    assert run["status"] == "completed" and run["traceDataset"]["spans"] == 58
    assert run["window"]["end"] == slot and Path(run["reportPath"]).read_text().startswith("# Trace analysis")
    conversation = run_json(capsys, "conversation", "get", run["conversationId"])
    assert [message["role"] for message in conversation["messages"]] == ["user", "assistant"]

    assert run_json(capsys, "schedule", "tick", "--now", slot)["fired"] == []
    [record] = run_json(capsys, "schedule", "runs", schedule_id)
    assert (record["runId"], record["runStatus"], record["slotAt"]) == (fired["runId"], "completed", slot)
    assert run_json(capsys, "schedule", "get", schedule_id)["lastFiredAt"] == slot


def test_tick_says_when_the_runs_it_fires_are_heuristics_only(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(usecases, "start_scheduled_run", lambda store: lambda schedule, slot: "run_000000000001")
    created = run_json(capsys, "schedule", "create", "--title", "Hourly", "--agent-uuid", "agent-1",
                       "--frequency", "hourly", "--minutes", "0")
    assert run_json(capsys, "schedule", "tick", "--now", "2000-01-01T00:00:00Z")["heuristicsOnly"] is False

    assert cli.main(["schedule", "tick", "--now", created["nextRunAt"]]) == 0
    assert "fired 1 schedule(s) (heuristics-only: no ANTHROPIC_API_KEY)" in capsys.readouterr().out
    following = run_json(capsys, "schedule", "get", created["scheduleId"])["nextRunAt"]
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key-not-real")
    ticked = run_json(capsys, "schedule", "tick", "--now", following)
    assert len(ticked["fired"]) == 1 and ticked["heuristicsOnly"] is False


def test_create_refuses_an_unknown_agent_as_not_found_and_a_source_matching_nothing_as_usage_error(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    base = ["schedule", "create", "--title", "T", "--frequency", "hourly", "--minutes", "0"]
    assert cli.main([*base, "--agent-uuid", "nosuch"]) == 1  # as in every command
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("Error: no agent with UUID 'nosuch'\nHint: known agents:")
    assert cli.main([*base, "--agent-uuid", "agent-1", "--source", str(tmp_path / "*.jsonl")]) == 2
    assert capsys.readouterr().err.startswith(f"Error: no trace files match {tmp_path}/*.jsonl\nHint: ")
    assert run_json(capsys, "schedule", "list") == []
