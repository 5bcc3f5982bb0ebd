"""`halo-local run traces` end to end in real processes: a run's window ranked by how likely each
trace failed, with the findings that flag it, and `run get` naming every trace a finding covers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cli_runs_support import run_cli, run_json, window_args

FAILING_LIST_FILES_TRACES = {"a9746d1452534d89af85ad99c6493473", "301d90d19c94485992997d1cd96bacfd"}


@pytest.fixture(scope="module")
def finished_run(module_capture_home: tuple[Path, str]) -> tuple[Path, dict[str, Any]]:
    """HALO's realistic capture (loaded once per test process) analysed (no LLM) through the CLI: the
    home and `run get`."""
    home, agent = module_capture_home
    created = run_json("run", "create", *window_args(agent), "--no-llm", "--wait", home=home)
    assert created["status"] == "completed"
    return home, run_json("run", "get", created["runId"], home=home)


def test_run_get_names_every_trace_a_finding_covers(finished_run: tuple[Path, dict[str, Any]]) -> None:
    _, run = finished_run
    errors = [item for item in run["findings"] if item["category"] == "error"]
    assert len(errors) == 1 and set(errors[0]["affectedTraceIds"]) == FAILING_LIST_FILES_TRACES
    for finding in run["findings"]:
        assert len(finding["affectedTraceIds"]) == finding["affectedTraces"], finding["key"]
        assert finding["exampleTraceIds"] == finding["affectedTraceIds"][:5]


def test_run_traces_ranks_the_window_and_names_the_findings(finished_run: tuple[Path, dict[str, Any]]) -> None:
    home, run = finished_run
    document = run_json("run", "traces", run["runId"], home=home)
    assert document["runId"] == run["runId"] and document["totalTraces"] == 3
    assert [item["rank"] for item in document["traces"]] == [1, 2, 3]
    assert {item["traceId"] for item in document["traces"][:2]} == FAILING_LIST_FILES_TRACES
    top = document["traces"][0]
    assert top["score"] > document["traces"][2]["score"] == 0
    assert top["outcome"] == "ok" and top["endedBadly"] is False  # list_files failed, the run went on
    error_key = next(item["key"] for item in run["findings"] if item["category"] == "error")
    assert error_key in [item["key"] for item in top["findings"]]
    assert set(top["findings"][0]) == {"key", "category", "severity", "title"}

    flagged = run_json("run", "traces", run["runId"], "--flagged", home=home)
    assert flagged["flaggedTraces"] == 2 and flagged["flaggedOnly"] is True
    assert {item["traceId"] for item in flagged["traces"]} == FAILING_LIST_FILES_TRACES

    text = run_cli("run", "traces", run["runId"], "--flagged", "--limit", "1", home=home)
    assert text.returncode == 0, text.stderr
    assert "TRACE ID" in text.stdout and "error" in text.stdout
    assert "2 of 3 traces flagged, 0 ended badly." in text.stdout
    assert len([line for line in text.stdout.splitlines() if line[:1].isdigit()]) == 2  # one row + the count

    report = Path(run["reportPath"]).read_text(encoding="utf-8")
    assert "## Read these traces first" in report
    assert report.index("## Read these traces first") < report.index("## Top issues")


def test_run_traces_of_an_unknown_run_is_an_error(finished_run: tuple[Path, dict[str, Any]]) -> None:
    home, _ = finished_run
    document = run_json("run", "traces", "run_000000000000", home=home, code=1)
    assert "no run with id" in document["error"]["message"]
