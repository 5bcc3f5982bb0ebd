"""Run lifecycle through the Python API: validation, snapshot, states, events, reaping, cancel, time limit."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from fake_clock import FakeClock
from runs_support import (
    AGENT_UUID,
    OTHER_AGENT_UUID,
    WINDOW,
    AnalysedHome,
    agent_traces,
    create_run,
    insert_spans,
    wait_until,
)

from halo_local import heuristics, llm, runs, traces, usecases
from halo_local.errors import HaloLocalError, NotFoundError, UsageError
from halo_local.sandbox import SpanSandbox
from halo_local.store import Store


@pytest.fixture
def loaded(helper_traces_store: Store) -> Store:
    """The five Helper traces of `agent_traces(5)`, a copy of conftest's per-process store of them."""
    return helper_traces_store


def _create(store: Store, **options: Any) -> dict[str, Any]:
    """A run without the LLM pass unless `options` ask for it."""
    return create_run(store, **{"no_llm": True, **options})


def _queued(store: Store, monkeypatch: pytest.MonkeyPatch, **options: Any) -> dict[str, Any]:
    """A run recorded as queued with no worker started."""
    monkeypatch.setattr(runs.worker, "start_worker", lambda store, run_id: 0)
    return _create(store, wait=False, **options)


def _count_runs(store: Store) -> int:
    with store.connect() as connection:
        return connection.execute("SELECT count(*) FROM runs").fetchall()[0][0]


def _kinds(store: Store, run_id: str) -> list[str]:
    return [event.kind for event in runs.run_events(store, run_id, limit=1000)]


@pytest.mark.parametrize(("options", "message"), [
    ({"window_start_at": "yesterday"}, "--window-start-at takes an ISO date-time"),
    ({"window_start_at": WINDOW[1], "window_end_at": WINDOW[0]}, "must be before --window-end-at"),
    ({"span_limit": 0}, "--span-limit takes a number from 1 to"),
    ({"max_subagent_depth": 6}, "--max-subagent-depth takes a number from 1 to 5; got 6"),
    ({"max_turns": 101}, "--max-turns takes a number from 1 to 100; got 101"),
    ({"lookback_hours": 0, "window_start_at": None}, "--lookback-hours takes a number from 1 to 876000; got 0"),
    ({"model_id": "gpt-17"}, "unknown model id 'gpt-17'"),
])
def test_bad_options_are_refused_before_anything_is_created(loaded: Store, options: dict[str, Any],
                                                            message: str) -> None:
    with pytest.raises(UsageError, match=message):
        _create(loaded, **options)
    assert _count_runs(loaded) == 0


def test_unknown_agent_names_the_closest_known_agents(loaded: Store) -> None:
    with pytest.raises(NotFoundError) as caught:
        _create(loaded, agent_uuid=AGENT_UUID[:-3] + "999")
    assert AGENT_UUID in caught.value.hint
    assert _count_runs(loaded) == 0


def test_foreground_heuristics_only_run_completes_with_report_and_timeline(
        analysed_helper: AnalysedHome, analysed_helper_store: Store) -> None:
    run, seen, loaded = analysed_helper.run, analysed_helper.seen, analysed_helper_store

    assert run["status"] == "completed", run["statusReason"]
    assert run["runId"].startswith("run_") and len(run["runId"]) == 16
    assert run["conversationId"].startswith("conv_") and len(run["conversationId"]) == 17
    assert run["llm"] == {**run["llm"], "ran": False, "skippedReason": "--no-llm was given", "degraded": False}
    dataset = run["traceDataset"]
    assert (dataset["spans"], dataset["traces"], dataset["truncated"]) == (20, 5, False)
    assert (dataset["spansInWindow"], dataset["tracesInWindow"]) == (20, 5)
    assert run["timings"]["startedAt"] and run["timings"]["finishedAt"]

    kinds = _kinds(loaded, run["runId"])
    assert kinds[:3] == ["queued", "started", "heartbeat"] or kinds[:3] == ["queued", "started", "step_started"]
    assert "heartbeat" in kinds
    for step in ("snapshot", "heuristics", "report"):
        assert any(event.detail.get("step") == step and event.kind == "step_finished"
                   for event in runs.run_events(loaded, run["runId"], limit=1000))
    assert "llm_skipped" in kinds and kinds[-1] == "completed"
    assert seen[-1] == "completed"

    conversation = usecases.get_conversation(loaded, run["conversationId"])
    roles = [message["role"] for message in conversation["messages"]]
    assert roles == ["user", "assistant"]
    report_text = conversation["messages"][1]["content"]
    assert report_text == Path(run["reportPath"]).read_text(encoding="utf-8")
    assert report_text.startswith("# Trace analysis: Helper")
    assert "LLM pass: skipped (--no-llm was given)" in report_text
    assert conversation["traceDataset"]["spans"] == 20
    assert conversation["run"]["runId"] == run["runId"]

    full = runs.get_run(loaded, run["runId"]).to_json()
    assert isinstance(full["findings"], list)
    for finding in full["findings"]:
        assert {"category", "severity", "title", "subject", "agentUuid", "key", "exampleTraceIds"} <= set(finding)


def test_snapshot_keeps_whole_error_traces_first_within_the_span_limit(loaded: Store) -> None:
    run = _create(loaded, span_limit=10)

    dataset = run["traceDataset"]
    assert (dataset["spans"], dataset["traces"], dataset["truncated"]) == (8, 2, True)
    assert (dataset["spansInWindow"], dataset["tracesInWindow"]) == (20, 5)
    with duckdb.connect() as connection:
        kept = connection.read_parquet(dataset["path"]).aggregate(
            "list(DISTINCT trace_id ORDER BY trace_id)").fetchall()[0][0]
        snapshot_columns = connection.read_parquet(dataset["path"]).columns
    # Traces 0, 2 and 4 fail; the newest failing ones come first: 4 then 2 (8 spans), 0 would exceed 10.
    assert kept == [f"{2:032x}", f"{4:032x}"]
    with loaded.connect() as connection:
        stored_columns = [row[0] for row in connection.execute("DESCRIBE spans").fetchall()]
    assert snapshot_columns == [*stored_columns, "declared_agent"]
    report_text = Path(run["reportPath"]).read_text(encoding="utf-8")
    assert "| Traces | 5 in the window; the findings read 2 of them (cut by the span limit of 10" in report_text


def test_a_trace_larger_than_the_limit_alone_is_cut_not_dropped(loaded: Store) -> None:
    run = _create(loaded, span_limit=3)
    assert run["status"] == "completed"
    assert (run["traceDataset"]["spans"], run["traceDataset"]["traces"]) == (3, 1)


def test_previous_window_is_snapshotted_when_stored(store: Store) -> None:
    insert_spans(store, agent_traces(3))
    insert_spans(store, agent_traces(2, first=10, start=datetime(2026, 4, 24, 16, 30)))
    run = _create(store)
    assert run["status"] == "completed"  # the detectors read the previous window's narrow file
    assert run["traceDataset"]["previousWindowSpans"] == 8
    assert (Path(run["traceDataset"]["path"]).parent / runs.PREVIOUS_FILE).exists()


def test_empty_window_ends_no_traces_naming_the_stored_range_and_the_flags(loaded: Store) -> None:
    run = _create(loaded, window_start_at="2026-04-20T00:00:00Z", window_end_at="2026-04-21T00:00:00Z")

    assert run["status"] == "no_traces"
    reason = run["statusReason"]
    assert "no spans of agent Helper between 2026-04-20T00:00:00Z and 2026-04-21T00:00:00Z" in reason
    assert "stored spans cover 2026-04-24T18:00:00Z .. 2026-04-24T18:04:03Z" in reason
    assert "--window-start-at 2026-04-24T18:00:00Z --window-end-at 2026-04-24T18:04:04Z" in reason
    assert "--lookback-hours" in reason
    assert _kinds(loaded, run["runId"])[-1] == "no_traces"
    assert runs.POLL_EXIT_CODES[run["status"]] == 6


def test_lookback_hours_counts_back_from_the_window_end(loaded: Store) -> None:
    run = _create(loaded, window_start_at=None, window_end_at="2026-04-24T19:00:00+01:00", lookback_hours=2)
    assert run["window"] == {"start": "2026-04-24T16:00:00Z", "end": "2026-04-24T18:00:00Z"}
    assert run["status"] == "no_traces"


def test_a_lookback_beyond_what_dates_can_hold_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="--lookback-hours takes a number from 1 to 876000; got 100000000"):
        runs.resolve_window(None, None, 100_000_000)
    with pytest.raises(UsageError, match="reaches before the year 1"):
        runs.resolve_window(None, "0010-01-01T00:00:00Z", 800_000)
    start, end = runs.resolve_window(None, "2026-04-24T18:00:00Z", runs.MAX_LOOKBACK_HOURS)
    assert (end - start).days == 36_500


def test_a_dead_worker_is_marked_failed_by_the_next_reader(loaded: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    run = _queued(loaded, monkeypatch)
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(finished.stdout)
    with loaded.transaction() as connection:
        connection.execute(
            "UPDATE runs SET status = 'running', worker_pid = $pid, worker_host = $host, started_at = created_at,"
            " heartbeat_at = created_at WHERE run_id = $run_id",
            {"pid": dead_pid, "host": __import__("socket").gethostname(), "run_id": run["runId"]},
        )

    after = runs.get_run(loaded, run["runId"]).to_json()

    assert after["status"] == "failed"
    assert after["statusReason"].startswith(f"worker stopped (killed or crashed): process {dead_pid} is gone")
    assert _kinds(loaded, run["runId"])[-1] == "failed"


def test_a_silent_worker_fails_and_an_overrun_times_out(loaded: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    silent = _queued(loaded, monkeypatch)
    overrun = _queued(loaded, monkeypatch, time_limit_seconds=60)
    now = datetime(2026, 5, 1, 12, 0, 0)
    with loaded.transaction() as connection:
        connection.execute(
            "UPDATE runs SET status = 'running', worker_host = 'elsewhere', started_at = $started,"
            " heartbeat_at = $beat WHERE run_id = $run_id",
            {"started": now - timedelta(minutes=5), "beat": now - timedelta(minutes=4), "run_id": silent["runId"]},
        )
        connection.execute(
            "UPDATE runs SET status = 'running', worker_host = 'elsewhere', started_at = $started,"
            " heartbeat_at = $beat WHERE run_id = $run_id",
            {"started": now - timedelta(minutes=5), "beat": now - timedelta(seconds=1), "run_id": overrun["runId"]},
        )

    ended = runs.reap_stale_runs(loaded, now=now)

    assert sorted(ended) == sorted([silent["runId"], overrun["runId"]])
    silent_after = runs.get_run(loaded, silent["runId"]).to_json()
    assert silent_after["status"] == "failed"
    assert "no heartbeat since" in silent_after["statusReason"]
    overrun_after = runs.get_run(loaded, overrun["runId"]).to_json()
    assert overrun_after["status"] == "timed_out"
    assert "time limit of 1 min" in overrun_after["statusReason"]
    assert runs.reap_stale_runs(loaded, now=now + timedelta(hours=1)) == []


def test_a_queued_run_is_cancelled_at_once_and_never_starts(loaded: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    run = _queued(loaded, monkeypatch)

    cancelled, requested = runs.cancel_run(loaded, run["runId"], reason="changed my mind")

    assert requested is True
    assert cancelled.status == "cancelled"
    assert cancelled.status_reason == "changed my mind"
    assert cancelled.cancel is not None and cancelled.cancel.reason == "changed my mind"
    assert runs.execute_run(loaded, run["runId"]) == "cancelled"
    assert _kinds(loaded, run["runId"]) == ["queued", "cancel_requested", "cancelled"]
    again, requested_again = runs.cancel_run(loaded, run["runId"])
    assert again.status == "cancelled" and requested_again is False


class _BlockingLlm:
    """Stands in for run_analysis: waits (like a long Messages API call) until told to stop.

    Given a fake clock, it first moves it `advance_seconds` on, so a run's time limit passes exactly
    while the LLM pass is under way, however long the snapshot and heuristics took.
    """

    def __init__(self, clock: FakeClock | None = None, advance_seconds: float = 0.0) -> None:
        self.entered = threading.Event()
        self._clock = clock
        self._advance_seconds = advance_seconds

    def __call__(self, *, should_cancel: Any, on_event: Any, **_: Any) -> Any:
        self.entered.set()
        on_event("llm_turn", {"depth": 0, "turn": 1, "inputTokens": 10, "outputTokens": 2})
        if self._clock is not None:
            self._clock.advance(self._advance_seconds)
        wait_until(should_cancel, step=0.02)
        raise llm.LlmCancelled()


def _with_llm(monkeypatch: pytest.MonkeyPatch, analysis: Any) -> None:
    monkeypatch.setattr(llm, "llm_skip_reason", lambda no_llm: "--no-llm was given" if no_llm else None)
    monkeypatch.setattr(llm, "run_analysis", analysis)


def test_cancel_is_honoured_in_the_middle_of_the_llm_pass(loaded: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    blocking = _BlockingLlm()
    _with_llm(monkeypatch, blocking)
    run = _queued(loaded, monkeypatch, no_llm=False)
    outcome: list[str] = []
    worker = threading.Thread(target=lambda: outcome.append(runs.execute_run(loaded, run["runId"])))
    worker.start()
    while not blocking.entered.wait(0.05):  # however long the snapshot and heuristics take on a loaded machine
        assert worker.is_alive(), f"the run ended before its LLM pass: {outcome}"

    assert runs.cancel_run(loaded, run["runId"], wait_seconds=0)[1] is True
    worker.join()

    assert outcome == ["cancelled"]
    cancelled = runs.get_run(loaded, run["runId"]).to_json()
    assert cancelled["status"] == "cancelled"
    assert cancelled["statusReason"] == runs.DEFAULT_CANCEL_REASON
    kinds = _kinds(loaded, run["runId"])
    order = [kinds.index(kind) for kind in ("llm_turn", "cancel_requested", "llm_stopped", "cancelled")]
    assert order == sorted(order)
    _assert_heuristics_report_kept(loaded, runs.get_run(loaded, run["runId"]).to_json(),
                                   "stopped because the run was cancelled: user-cancelled")


def _assert_heuristics_report_kept(store: Store, run: dict[str, Any], note: str) -> None:
    """The run stopped mid LLM pass still has its heuristics-only report, also as the assistant message."""
    assert run["llm"]["degraded"] is True
    assert run["llm"]["error"] == note
    assert run["findingCount"] > 0
    report_text = Path(run["reportPath"]).read_text(encoding="utf-8")
    assert f"LLM pass: {note}. This report is heuristics-only" in report_text
    assert "## Top issues" in report_text
    messages = usecases.get_conversation(store, run["conversationId"])["messages"]
    assert [message["role"] for message in messages] == ["user", "assistant"]
    assert messages[-1]["content"] == report_text


def test_the_run_time_limit_ends_it_timed_out_keeping_the_heuristics_report(
        loaded: Store, monkeypatch: pytest.MonkeyPatch, fake_clock: FakeClock) -> None:
    _with_llm(monkeypatch, _BlockingLlm(fake_clock, advance_seconds=1.5))
    run = _create(loaded, no_llm=False, time_limit_seconds=1)
    assert run["status"] == "timed_out"
    assert "time limit" in run["statusReason"]
    assert runs.POLL_EXIT_CODES["timed_out"] == 5
    _assert_heuristics_report_kept(loaded, runs.get_run(loaded, run["runId"]).to_json(),
                                   "stopped at the run's time limit of 0.0166667 min")


def test_llm_failure_completes_degraded_with_the_heuristics_report(loaded: Store,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(**_: Any) -> Any:
        raise llm.LlmError("the Messages API kept answering 500 after 4 retries")

    _with_llm(monkeypatch, failing)
    run = _create(loaded, no_llm=False)

    assert run["status"] == "completed"
    assert run["llm"]["degraded"] is True
    assert "500" in run["llm"]["error"]
    assert "degraded" in run["statusReason"]
    assert "llm_failed" in _kinds(loaded, run["runId"])
    report_text = Path(run["reportPath"]).read_text(encoding="utf-8")
    assert "LLM pass: failed (the Messages API kept answering 500 after 4 retries)" in report_text
    assert "## Top issues" in report_text


def test_a_crash_inside_the_run_ends_it_failed_with_the_reason(loaded: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("detector exploded")

    monkeypatch.setattr(heuristics, "analyze", broken)
    run = _create(loaded)
    assert run["status"] == "failed"
    assert run["statusReason"] == "RuntimeError: detector exploded"


def test_followup_without_llm_quotes_the_matching_findings(analysed_helper_store: Store) -> None:
    loaded = analysed_helper_store
    run = runs.list_runs(loaded)[0].to_json()
    with loaded.transaction() as connection:
        connection.execute("UPDATE runs SET findings = $findings WHERE run_id = $run_id", {
            "run_id": run["runId"], "findings": json.dumps([_finding("error", "list_files"),
                                                            _finding("latency", "chat gpt-4o")])})

    answered = usecases.ask(loaded, run["conversationId"], "Why is list_files failing?").to_json()

    assert answered["status"] == "completed"
    assert answered["answer"].startswith("_The LLM pass was unavailable (ANTHROPIC_API_KEY is not set)")
    assert "One finding of the report matches" in answered["answer"]
    assert "list_files" in answered["answer"] and "chat gpt-4o" not in answered["answer"]
    conversation = usecases.get_conversation(loaded, run["conversationId"])
    assert [message["role"] for message in conversation["messages"]] == ["user", "assistant", "user", "assistant"]
    assert [item["kind"] for item in conversation["runs"]] == ["analysis", "followup"]

    slow = usecases.ask(loaded, run["conversationId"], "what is slow?", no_llm=True).to_json()
    assert "chat gpt-4o" in slow["answer"] and "--no-llm was given" in slow["answer"]


def test_followup_needs_a_finished_analysis(loaded: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    queued = _queued(loaded, monkeypatch)
    with pytest.raises(UsageError, match="is still queued"):
        usecases.ask(loaded, queued["conversationId"], "anything?")
    empty = _create(loaded, window_start_at="2026-01-01T00:00:00Z", window_end_at="2026-01-02T00:00:00Z")
    with pytest.raises(UsageError, match="ended no_traces"):
        usecases.ask(loaded, empty["conversationId"], "anything?")
    with pytest.raises(NotFoundError):
        usecases.ask(loaded, "conv_000000000000", "anything?")


def test_poll_returns_on_its_own_timeout_without_sleeping(loaded: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    run = _queued(loaded, monkeypatch)
    clock = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    events: list[str] = []
    result, timed_out = runs.poll_run(loaded, run["runId"], interval=5, timeout=12, sleep=sleep,
                                      clock=lambda: clock[0], on_event=lambda event: events.append(event.kind))
    assert timed_out is True and result.status == "queued"
    assert slept == [5, 5, 2]
    assert events == ["queued"]


def test_list_runs_and_conversations_newest_first(analysed_helper_store: Store) -> None:
    loaded = analysed_helper_store
    [first] = runs.list_runs(loaded)
    second = _create(loaded, window_start_at="2026-01-01T00:00:00Z", window_end_at="2026-01-02T00:00:00Z")
    assert [item.run_id for item in runs.list_runs(loaded)] == [second["runId"], first.run_id]
    listed = usecases.list_conversations(loaded, limit=1)
    assert [item["conversationId"] for item in listed] == [second["conversationId"]]
    assert listed[0]["status"] == "no_traces" and listed[0]["messageCount"] == 1


def test_the_snapshot_holds_no_secret_whatever_sql_reads_it(store: Store) -> None:
    anthropic, password = "sk-ant-api03-abcdefghijklmnopqrstuvwxyz", "Hunter2QAQA"
    rows = agent_traces(1, failing=lambda trace: True)
    rows[2].update(
        error_message=f"upstream failed\n{anthropic}",
        tool_arguments=json.dumps({"dsn": f"postgres://admin:{password}@db/prod", "password": password}),
        attributes=json.dumps({"http.request.header.authorization": f"Bearer {anthropic}", "retries": 3,
                               "note": "password: \"x\", see"}),
        declared_tools=[f"call_with_{anthropic}"])
    insert_spans(store, rows)
    run = _create(store)
    assert run["status"] == "completed"

    with SpanSandbox.from_parquet(Path(run["traceDataset"]["path"])) as sandbox:
        every_column = sandbox.query("SELECT * FROM spans").to_text()
        reshaped = sandbox.query("SELECT upper(error_message), reverse(tool_arguments), "
                                 "replace(attributes::VARCHAR, '-', '') FROM spans").to_text()
        typed = sandbox.query("SELECT typeof(attributes), attributes->>'retries' FROM spans "
                              "WHERE tool_arguments IS NOT NULL").rows
    for text in (every_column, reshaped):
        for secret in ("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", password, password[::-1]):
            assert secret not in text
    assert "UPSTREAM FAILED\\n[REDACTED]" in reshaped
    assert typed == (("JSON", "3"),)


def test_other_agents_spans_stay_out_of_the_snapshot(loaded: Store) -> None:
    insert_spans(loaded, agent_traces(2, first=50, agent_uuid=OTHER_AGENT_UUID))
    run = _create(loaded)
    assert run["traceDataset"]["spans"] == 20


def _finding(category: str, subject: str) -> dict[str, Any]:
    return {
        "category": category, "severity": "high", "title": f"{subject} {category}", "subject": subject,
        "agentUuid": AGENT_UUID, "metric": "count", "value": 3.0, "baseline": None, "affectedTraces": 3,
        "affectedSpans": 3, "traceShare": 0.6, "spanShare": 0.15, "impactSeconds": 6.0, "impactUsd": None,
        "failedTraces": 3, "firstSeenAt": "2026-04-24T18:00:01Z", "lastSeenAt": "2026-04-24T18:04:01Z",
        "exampleTraceIds": [f"{0:032x}"], "exampleSpanIds": [f"{0:04x}{2:012x}"], "detail": {},
        "key": f"{category}:{subject}:0000",
    }


def test_run_thresholds_override_the_defaults_for_that_run_only(halo_store: Store) -> None:
    """A run's own thresholds reach the detectors; an unknown name is refused before anything is created."""
    store = halo_store
    agent = traces.list_agents(store, time_range="all")[0]["agentUuid"]
    window = {"window_start_at": "2026-04-24T18:00:00Z", "window_end_at": "2026-04-24T19:00:00Z"}
    with pytest.raises(HaloLocalError, match="unknown heuristics threshold 'loop_min_repeat'"):
        runs.create_run(store, agent_uuid=agent, thresholds={"loop_min_repeat": 2}, wait=True, **window)
    assert runs.list_runs(store) == []
    default = runs.create_run(store, agent_uuid=agent, wait=True, **window).to_json()
    strict = runs.create_run(store, agent_uuid=agent, thresholds={"failure_high_rate": 0.2}, wait=True, **window).to_json()
    assert runs.get_run(store, strict["runId"]).options.thresholds == {"failure_high_rate": 0.2}

    def severities(run: dict[str, Any]) -> list[tuple[str, str]]:
        return [(item["category"], item["severity"]) for item in runs.get_run(store, run["runId"]).to_json()["findings"]]

    assert ("error", "medium") in severities(default)
    assert ("error", "high") in severities(strict)


def test_a_no_llm_run_opens_the_store_seldom_and_keeps_its_timeline_in_order(
        halo_store: Store, store_openings: Callable[[], int]) -> None:
    """A step's end is held for the run's next write, and quick sequences share one open database: the
    timeline keeps every event in order, and the run opens the database file (a connection while no other
    of this process is open: ~20 ms of CPU each) 12 or 13 times (the heartbeat thread may land between
    two), where it took 22 (14 before the agent's lookup and the run's rows shared one)."""
    agent = traces.list_agents(halo_store, time_range="all")[0]["agentUuid"]
    before = store_openings()
    run = runs.create_run(halo_store, agent_uuid=agent, no_llm=True, wait=True, lookback_hours=100_000).to_json()
    assert store_openings() - before <= 13
    timeline = [(event.kind, event.detail.get("step")) for event in runs.run_events(halo_store, run["runId"])]
    assert [event for event in timeline if event[0] != "heartbeat"] == [
        ("queued", None), ("started", None), ("step_started", "snapshot"),
        ("step_finished", "snapshot"), ("step_started", "heuristics"), ("step_finished", "heuristics"),
        ("llm_skipped", "llm"), ("step_started", "report"), ("step_finished", "report"),
        ("step_finished", "report"), ("completed", None)]


def test_reading_a_conversation_opens_the_store_once(analysed_helper: AnalysedHome, analysed_helper_store: Store,
                                                     store_openings: Callable[[], int]) -> None:
    """`conversation get`, `conversation list` and `conversation get --latest` (and the MCP tools on them)
    read runs, messages and events: one opening of the database each, where they took two to five."""
    conversation_id = analysed_helper.run["conversationId"]
    for read in (lambda: usecases.get_conversation(analysed_helper_store, conversation_id),
                 lambda: usecases.list_conversations(analysed_helper_store),
                 lambda: usecases.latest_conversation_id(analysed_helper_store, "Helper")):
        before = store_openings()
        assert read()
        assert store_openings() - before == 1
