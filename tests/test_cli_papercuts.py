"""The papercuts of issue 18, each through the CLI entry point on a real DuckDB file in a tmp home."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from runs_support import (
    AGENT_UUID,
    HALO_FIXTURE,
    OTHER_AGENT_UUID,
    AnalysedHome,
    Terminal,
    agent_traces,
    create_run,
    insert_spans,
)

from halo_local import cli, runs, traces
from halo_local.store import Store

ADK_FIXTURE = (Path(__file__).parent.parent / "sample_traces" / "adk-goldens"
               / "tool-error-valueerror-schema-v2.otlp.json")


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    """A home holding the helper agent's five traces, HALO_HOME pointing at it."""
    monkeypatch.setenv("HALO_HOME", str(tmp_path / "home"))
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    store = Store(tmp_path / "home")
    insert_spans(store, agent_traces(5))
    return store


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _queued(store: Store, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setattr(runs.worker, "start_worker", lambda store, run_id: 0)
    return create_run(store, wait=False, no_llm=True)


def _set_status(store: Store, run_id: str, status: str, reason: str | None) -> None:
    with store.transaction() as connection:
        connection.execute(
            "UPDATE runs SET status = $status, status_reason = $reason, worker_host = 'elsewhere',"
            " started_at = created_at, heartbeat_at = now() WHERE run_id = $run_id",
            {"status": status, "reason": reason, "run_id": run_id})


@pytest.mark.parametrize(("status", "reason", "exit_code"), [
    ("queued", None, 7), ("running", None, 7), ("failed", "worker died of ValueError: boom", 3),
    ("cancelled", "cancelled by the user", 4),
])
def test_conversation_get_names_a_run_without_report_and_fails(
        store: Store, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        status: str, reason: str | None, exit_code: int) -> None:
    run = _queued(store, monkeypatch)
    if status != "queued":
        _set_status(store, run["runId"], status, reason)

    code, out, _ = _cli(capsys, "conversation", "get", run["conversationId"])
    assert code == exit_code
    assert f"Run {run['runId']} is {status}" in out
    if reason:
        assert reason in out

    code, out, err = _cli(capsys, "conversation", "get", run["conversationId"], "--json")
    assert code == exit_code
    assert json.loads(out)["run"]["status"] == status
    assert f"is {status}" in err


def test_conversation_get_of_a_no_traces_run_exits_6(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    run = create_run(store, no_llm=True, window_start_at="2020-01-01T00:00:00Z", window_end_at="2020-01-02T00:00:00Z")
    assert run["status"] == "no_traces"

    code, out, _ = _cli(capsys, "conversation", "get", run["conversationId"])

    assert code == 6
    assert f"Run {run['runId']} is no_traces" in out


@pytest.mark.usefixtures("analysed_helper_store")
def test_conversation_get_of_a_completed_run_exits_0_and_writes_output(
        analysed_helper: AnalysedHome, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = analysed_helper.run

    code, out, _ = _cli(capsys, "conversation", "get", run["conversationId"])

    assert code == 0
    assert "# " in out and f"Run {run['runId']} is" not in out
    target = tmp_path / "conversation.md"
    code, out, _ = _cli(capsys, "conversation", "get", run["conversationId"], "--output", str(target))
    assert (code, out) == (0, f"Wrote {target}\n")
    assert target.read_text(encoding="utf-8").startswith(f"Conversation {run['conversationId']}")


def test_analyze_prints_only_the_report_and_writes_it_with_output(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Two agents in the files: the note naming the other one goes to stderr, never into the report."""
    monkeypatch.setenv("HALO_HOME", str(tmp_path / "home"))
    report = tmp_path / "report.md"
    code, out, err = _cli(capsys, "analyze", str(HALO_FIXTURE), str(ADK_FIXTURE), "--no-llm", "--output", str(report))
    assert code == 0
    assert out == f"Wrote {report}\n"
    assert "Also in these files (analyse with --agent-uuid):" in err
    written = report.read_text(encoding="utf-8")
    assert written.startswith("# ") and "Also in these files" not in written


def test_conversation_get_latest_of_an_agent(
        store: Store, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    insert_spans(store, [{**row, "agent_name": "Other"}
                         for row in agent_traces(2, agent_uuid=OTHER_AGENT_UUID, first=100)])
    monkeypatch.setattr(runs.worker, "start_worker", lambda store, run_id: 0)
    created = [create_run(store, wait=False, agent_uuid=agent, now=datetime(2026, 5, 1, hour))
               for hour, agent in enumerate([AGENT_UUID, OTHER_AGENT_UUID, AGENT_UUID])]
    older, other, newest = (run["conversationId"] for run in created)

    def latest(*agent: str) -> str:
        _, out, _ = _cli(capsys, "conversation", "get", "--latest", *agent, "--json")
        return str(json.loads(out)["conversationId"])

    assert latest("--agent", AGENT_UUID) == latest("--agent", "Helper") == latest() == newest != older
    assert latest("--agent", OTHER_AGENT_UUID) == other
    code, _, err = _cli(capsys, "conversation", "get", "--latest", "--agent", "nobody")
    assert code == 1 and "no agent" in err
    code, _, err = _cli(capsys, "conversation", "get")
    assert code == 2 and "--latest" in err


def test_conversation_get_output_is_not_written_without_a_report(
        store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    run = _queued(store, monkeypatch)
    target = tmp_path / "report.md"
    code, _, _ = _cli(capsys, "conversation", "get", run["conversationId"], "--output", str(target))
    assert code == 7 and not target.exists()


def test_short_unique_id_prefixes_are_accepted(
        store: Store, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Runs, conversations, schedules, traces and spans by a prefix; an ambiguous one lists candidates."""
    run = _queued(store, monkeypatch)
    code, out, _ = _cli(capsys, "run", "get", run["runId"][:8], "--json")
    assert json.loads(out)["runId"] == run["runId"]
    code, out, _ = _cli(capsys, "conversation", "get", run["conversationId"][:9], "--json")
    assert json.loads(out)["conversationId"] == run["conversationId"]

    rows = agent_traces(1, first=0xAB << 120)
    insert_spans(store, [{**row, "span_id": "feedface12345678"} if row["span_id"].endswith("2") else row
                         for row in rows])
    trace_id = rows[0]["trace_id"]
    code, out, _ = _cli(capsys, "trace", "get", "ab", "--json")
    assert code == 0 and json.loads(out)["traceId"] == trace_id
    code, out, _ = _cli(capsys, "span", "get", "feedface", "--trace-id", "ab0", "--json")
    assert code == 0 and json.loads(out)["spanId"] == "feedface12345678"

    code, out, err = _cli(capsys, "trace", "get", "0000", "--json")
    assert code == 2 and "ambiguous" in err and f"{0:032x}" in err and f"{4:032x}" in err
    code, _, err = _cli(capsys, "run", "get", "run_nothing")
    assert code == 1 and "run_nothing" in err

    code, out, _ = _cli(capsys, "schedule", "create", "--title", "nightly", "--agent-uuid", AGENT_UUID,
                        "--frequency", "daily", "--minutes", "0", "--hours", "3", "--json")
    schedule_id = json.loads(out)["scheduleId"]
    code, out, _ = _cli(capsys, "schedule", "get", schedule_id[:7], "--json")
    assert code == 0 and json.loads(out)["scheduleId"] == schedule_id


@pytest.mark.parametrize("command", [
    ["run", "create", "--no-llm", "--agent-uuid"],
    ["schedule", "create", "--title", "t", "--frequency", "daily", "--minutes", "0", "--hours", "1", "--agent-uuid"],
    ["trace", "list", "--agent"],
    ["span", "list", "--agent"],
    ["conversation", "get", "--latest", "--agent"],
])
def test_an_unknown_agent_is_the_same_error_with_exit_1_in_every_command(
        store: Store, capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    code, out, err = _cli(capsys, *command, "nobody", "--json")
    assert code == 1 and json.loads(out)["error"]["exitCode"] == 1
    assert err.startswith("Error: no agent with UUID 'nobody'\nHint: known agents:")


def test_mcp_on_a_terminal_says_it_waits_for_a_client(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from halo_local import mcp_server

    monkeypatch.setenv("HALO_HOME", str(tmp_path / "home"))
    served: list[Store] = []
    monkeypatch.setattr(mcp_server, "serve", served.append)
    monkeypatch.setattr("sys.stdin", Terminal(""))
    code, out, err = _cli(capsys, "mcp")
    assert (code, out, len(served)) == (0, "", 1)
    assert "waiting for an MCP client on stdin" in err

    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # a client's pipe: stderr stays quiet
    code, out, err = _cli(capsys, "mcp")
    assert (code, out, err, len(served)) == (0, "", "", 2)


def test_text_shows_times_in_the_local_zone_or_tz_and_json_stays_utc(
        store: Store, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        code, out, _ = _cli(capsys, "trace", "list", "--time-range", "all", "--limit", "1")
        assert code == 0 and "2026-04-24 14:04:00 EDT" in out  # 18:04 UTC
        code, out, _ = _cli(capsys, "trace", "list", "--time-range", "all", "--limit", "1", "--tz", "Asia/Tokyo")
        assert "2026-04-25 03:04:00 JST" in out
        code, out, _ = _cli(capsys, "trace", "list", "--time-range", "all", "--limit", "1", "--json", "--tz=UTC")
        assert json.loads(out)[0]["startTime"] == "2026-04-24T18:04:00Z"
        code, _, err = _cli(capsys, "trace", "list", "--tz", "Mars/Olympus")
        assert code == 2 and "--tz 'Mars/Olympus'" in err
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_schedule_get_and_runs_show_its_own_zone_and_get_says_when_paused(
        store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _cli(capsys, "schedule", "create", "--title", "nightly", "--agent-uuid", AGENT_UUID,
                        "--frequency", "daily", "--minutes", "30", "--hours", "2", "--timezone", "Europe/Paris",
                        "--json")
    schedule_id, slot = json.loads(out)["scheduleId"], json.loads(out)["nextRunAt"]
    code, out, _ = _cli(capsys, "schedule", "get", schedule_id)
    assert code == 0 and "Next fire times:\n  " in out
    assert " 02:30:00 CE" in out.split("Next fire times:")[1]  # CET or CEST: Paris time, not UTC

    _cli(capsys, "schedule", "tick", "--now", slot, "--json")
    code, out, _ = _cli(capsys, "schedule", "runs", schedule_id)
    assert code == 0 and " 02:30:00 CE" in out.splitlines()[1]  # its slot in the schedule's zone

    _cli(capsys, "schedule", "update", schedule_id, "--enabled", "false")
    code, out, _ = _cli(capsys, "schedule", "get", schedule_id)
    assert "Next run" in out and "none while paused" in out and "Fire times once resumed:" in out


class _TerminalStderr(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_agent_picker_aligns_columns_says_1_trace_shows_the_default_and_asks_again(
        store: Store, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    insert_spans(store, [{**row, "agent_name": "Other", "service_name": "other-service"}
                         for row in agent_traces(1, agent_uuid=OTHER_AGENT_UUID, first=100)])
    monkeypatch.setattr(runs.worker, "start_worker", lambda store, run_id: 0)
    monkeypatch.setattr("sys.stdin", Terminal("7\nabc\n2\n"))
    shown = _TerminalStderr()
    monkeypatch.setattr("sys.stderr", shown)

    code = cli.main(["run", "create", "--agent-time-range", "all", "--window-start-at", "2026-04-24T17:00:00Z",
                     "--window-end-at", "2026-04-24T19:00:00Z", "--no-llm"])
    capsys.readouterr()
    picker = shown.getvalue()

    assert code == 0
    lines = picker.splitlines()
    table = [line for line in lines if line.startswith(("#", "1.", "2."))]
    assert len(table) == 3
    column = table[0].index("SERVICE")  # aligned: each row's service starts under the header
    assert {table[1][column:].split()[0], table[2][column:].split()[0]} == {"helper-service", "other-service"}
    assert table[1][column - 1] == table[2][column - 1] == " "
    assert "1 trace " in picker and "5 traces" in picker
    assert "Agent number [1-2, default 1]: " in picker
    assert "'7' is not a number from 1 to 2; try again." in picker and "'abc' is not a number" in picker
    chosen = traces.list_agents(store, time_range="all")[1]["agentUuid"]
    with store.connect() as connection:
        assert connection.execute("SELECT agent_uuid FROM runs").fetchall() == [(chosen,)]


def test_prune_removes_old_spans_and_finished_runs_files_and_says_what_it_freed(
        analysed_helper: AnalysedHome, analysed_helper_store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    store, run = analysed_helper_store, analysed_helper.run
    folder = store.runs_dir / run["runId"]
    assert folder.is_dir() and any(folder.iterdir())
    with store.transaction() as connection:
        connection.execute("UPDATE runs SET finished_at = TIMESTAMP '2026-04-25 00:00:00'")
    insert_spans(store, agent_traces(1, first=50, start=datetime.now(UTC).replace(tzinfo=None)))

    code, out, _ = _cli(capsys, "prune", "--older-than", "30d", "--dry-run", "--json")
    planned = json.loads(out)
    assert code == 0 and (planned["spans"], planned["traces"], planned["runFolders"]) == (20, 5, 1)
    assert planned["runFileBytes"] > 0 and folder.is_dir()

    code, out, _ = _cli(capsys, "prune", "--older-than", "30d")
    assert code == 0 and out.startswith("Removed 20 spans (5 traces)") and "files of 1 finished runs" in out
    assert not folder.exists()
    with store.connect() as connection:
        assert connection.execute("SELECT count(*) FROM spans").fetchall() == [(4,)]  # the recent trace stays
    code, out, _ = _cli(capsys, "conversation", "get", run["conversationId"])
    assert code == 0  # the report stays readable
    code, _, err = _cli(capsys, "prune", "--older-than", "soon")
    assert code == 2 and "--older-than" in err


def test_trace_get_shows_tool_io_cut_sums_priced_children_and_errors_only_keeps_the_path(
        store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    rows = agent_traces(1, first=0xCD << 120)
    rows[2]["tool_result"] = "line one\n" + "x" * 500
    rows[0]["cost_source"] = "unpriced"
    insert_spans(store, rows)
    trace_id = rows[0]["trace_id"]

    code, out, _ = _cli(capsys, "trace", "get", trace_id)
    assert code == 0
    root = out.splitlines()[1]
    assert root.startswith("agent [agent]") and "cost=$0.007000 (sum of priced children)" in root
    assert "unpriced" not in out
    assert '      args: {"subdir": "./missing"}' in out
    [result] = [line for line in out.splitlines() if line.strip().startswith("result:")]
    assert result.strip().startswith("result: line one xxx") and result.endswith("... (309 more chars)")

    code, out, _ = _cli(capsys, "trace", "get", trace_id, "--errors-only")
    shown = [line.split(" [")[0].strip() for line in out.splitlines()[1:] if "[" in line]
    assert code == 0 and shown == ["agent", "function.list_files"]  # the path to the failing span, no siblings


def test_a_read_command_opens_the_store_once(analysed_helper: AnalysedHome, analysed_helper_store: Store,
                                             store_openings: Callable[[], int],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """An id (or its prefix) is looked up, then what it names is read: one opening of the database (~20 ms of
    CPU) for both, where each took its own."""
    run = analysed_helper.run
    span_id = f"{2:04x}{2:012x}"
    for command in (["run", "get", run["runId"]], ["run", "events", run["runId"][:10]],
                    ["trace", "get", f"{2:032x}"], ["span", "get", span_id, "--trace-id", f"{2:032x}"],
                    ["conversation", "get", run["conversationId"]]):
        before = store_openings()
        code, _, err = _cli(capsys, *command)
        assert code == 0, (command, err)
        assert store_openings() - before == 1, command
