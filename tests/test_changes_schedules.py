"""What changed since the last run, end to end: a schedule ticking twice (at fake times, `--now`) over
a window where one failure was fixed and another appeared; real workers run each fired analysis."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from runs_support import AGENT_UUID, insert_spans, span

from halo_local import cli
from halo_local.store import Store


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    assert cli.main([*args, "--json"]) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def _hour_of_traces(first: int, start: datetime, failing_tool: str) -> list[dict[str, Any]]:
    """Six traces in the hour from `start`: an agent calling list_files and read_file; `failing_tool`
    fails in every other trace."""
    rows = []
    for trace in range(first, first + 6):
        begin = start + timedelta(minutes=5 * (trace - first) + 1)
        rows.append(span(trace, 0, start=begin, seconds=4.0))
        for index, tool in enumerate(("list_files", "read_file"), start=1):
            fails = tool == failing_tool and trace % 2 == 0
            rows.append(span(trace, index, start=begin + timedelta(seconds=index), seconds=0.5, parent=0,
                             span_type="tool", name=f"function.{tool}", tool_name=tool,
                             status="error" if fails else "ok",
                             error_message=f"{tool} failed: no such file './missing'" if fails else None))
    return rows


def _poll(capsys: pytest.CaptureFixture[str], run_id: str) -> dict[str, Any]:
    assert cli.main(["run", "poll", run_id, "--interval", "0.5"]) == 0, capsys.readouterr().err
    capsys.readouterr()
    return run_json(capsys, "run", "get", run_id)


def test_a_schedule_ticking_twice_shows_the_fixed_failure_gone_and_the_new_one_new(
        capsys: pytest.CaptureFixture[str], isolated_home: Path) -> None:
    insert_spans(Store(isolated_home), [span(99, 0, start=datetime(2026, 1, 1))])  # the agent exists
    created = run_json(capsys, "schedule", "create", "--title", "Hourly health", "--agent-uuid", AGENT_UUID,
                       "--frequency", "hourly", "--minutes", "0", "--lookback-hours", "1")
    first_slot = datetime.fromisoformat(created["nextRunAt"].removesuffix("Z"))
    second_slot = first_slot + timedelta(hours=1)
    insert_spans(Store(isolated_home), _hour_of_traces(0, first_slot - timedelta(hours=1), "list_files")
                 + _hour_of_traces(10, first_slot, "read_file"))

    [fired] = run_json(capsys, "schedule", "tick", "--now", created["nextRunAt"])["fired"]
    first = _poll(capsys, fired["runId"])
    assert first["changes"]["previousRunId"] is None
    assert [item["subject"] for item in first["changes"]["new"]] == ["list_files"]

    [fired] = run_json(capsys, "schedule", "tick", "--now", second_slot.isoformat() + "Z")["fired"]
    second = _poll(capsys, fired["runId"])

    changes = second["changes"]
    assert changes["previousRunId"] == first["runId"]
    assert [item["subject"] for item in changes["new"]] == ["read_file"]
    assert [item["subject"] for item in changes["gone"]] == ["list_files"]
    assert changes["gone"][0]["key"] == first["findings"][0]["key"]
    assert changes["stillOpen"] == []
    assert changes["newHigh"] == sum(1 for item in changes["new"] if item["severity"] == "high")

    report = Path(second["reportPath"]).read_text(encoding="utf-8")
    opening = report.split("## What was analysed")[0]
    assert "## What changed since the last run" in opening and "1 new" in opening and "1 gone" in opening
    assert "- NEW [" in opening and "- GONE [" in opening
    page = Path(second["reportPath"]).with_name("report.html").read_text(encoding="utf-8")
    assert page.index('id="changes"') < page.index('id="findings"') and "GONE" in page

    [listed] = run_json(capsys, "schedule", "list")
    assert listed["lastOutcome"]["status"] == "completed" and listed["lastOutcome"]["runId"] == second["runId"]
    assert listed["lastOutcome"]["newHigh"] == changes["newHigh"]
    assert cli.main(["schedule", "list"]) == 0
    assert "completed" in capsys.readouterr().out


def test_schedule_list_shows_a_schedule_whose_last_run_found_no_traces(
        capsys: pytest.CaptureFixture[str], isolated_home: Path) -> None:
    insert_spans(Store(isolated_home), [span(99, 0, start=datetime(2026, 1, 1))])
    created = run_json(capsys, "schedule", "create", "--title", "Empty", "--agent-uuid", AGENT_UUID,
                       "--frequency", "hourly", "--minutes", "0", "--lookback-hours", "1")
    ticked = run_json(capsys, "schedule", "tick", "--now", created["nextRunAt"])
    assert cli.main(["run", "poll", ticked["fired"][0]["runId"], "--interval", "0.5"]) == 6
    capsys.readouterr()

    [listed] = run_json(capsys, "schedule", "list")
    assert listed["lastOutcome"]["status"] == "no_traces" and listed["lastOutcome"]["newHigh"] is None
    assert cli.main(["schedule", "list"]) == 0
    assert "no_traces" in capsys.readouterr().out


def test_run_report_prints_the_page_path_and_opens_it_and_conversation_get_html_prints_the_page(
        capsys: pytest.CaptureFixture[str], isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    insert_spans(Store(isolated_home), _hour_of_traces(0, datetime(2026, 4, 24, 18), "list_files"))
    created = run_json(capsys, "run", "create", "--agent-uuid", AGENT_UUID, "--window-start-at",
                       "2026-04-24T18:00:00Z", "--window-end-at", "2026-04-24T19:00:00Z", "--no-llm", "--wait")
    page = Path(created["reportPath"]).with_name("report.html")
    page.unlink()  # as for a run made before report.html existed
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url) or True)

    assert cli.main(["run", "report", created["runId"]]) == 0
    assert capsys.readouterr().out.strip() == str(page) and page.is_file() and opened == []
    reported = run_json(capsys, "run", "report", created["runId"], "--open")
    assert reported == {"runId": created["runId"], "path": str(page), "opened": True} and opened == [page.as_uri()]

    assert cli.main(["conversation", "get", created["conversationId"], "--html"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("<!DOCTYPE html>") and printed.rstrip("\n") == page.read_text(encoding="utf-8").rstrip("\n")
