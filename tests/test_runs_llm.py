"""Runs with the LLM pass, through the real anthropic SDK against the fake Messages API on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from fake_anthropic import (
    FakeAnthropic,
    FakeReply,
    error_reply,
    fake_anthropic,  # noqa: F401  (fixture)
    text_message,
    tool_use_message,
    usage,
)
from fake_clock import FakeClock
from runs_support import BASE, AnalysedHome, agent_traces, create_run, insert_spans, span, wait_until

from halo_local import cli, llm, runs, usecases
from halo_local.llm.client import POLL_SECONDS
from halo_local.store import Store

REAL_TRACE = f"{2:032x}"
REAL_SPAN = f"{2:04x}{2:012x}"
INVENTED_TRACE = "feedfacefeedfacefeedfacefeedface"
SECRET = "sk-ant-api03-" + "Q" * 40


@pytest.fixture
def loaded(helper_traces_store: Store) -> Store:
    """The five Helper traces of `agent_traces(5)`, a copy of conftest's per-process store of them."""
    return helper_traces_store


def _submission(finding_key: str | None) -> dict[str, Any]:
    return tool_use_message([("submit_analysis", {
        "summary": f"list_files fails on a missing directory in trace {REAL_TRACE}.",
        "notes": [{
            "finding_key": finding_key, "title": "list_files is pointed at a directory that does not exist",
            "rank": 1, "likely_cause": "The agent passes ./missing, which the repository does not have.",
            "fix": "Resolve subdir against the repository root and list the available directories on failure.",
            "trace_ids": [REAL_TRACE, INVENTED_TRACE], "span_ids": [REAL_SPAN],
        }],
    })], tokens=usage(2000, 300))


def test_multi_turn_tool_use_explains_findings_and_removes_invented_ids(analysed_helper: AnalysedHome,
                                                                         analysed_helper_store: Store,
                                                                         fake_anthropic: FakeAnthropic) -> None:
    loaded = analysed_helper_store
    findings = runs.get_run(loaded, analysed_helper.run["runId"]).to_json()["findings"]
    finding_key = findings[0]["key"] if findings else None
    fake_anthropic.push(
        tool_use_message([("run_sql", {"sql": "SELECT count(*) AS failures FROM spans WHERE status_code = 'error'"})],
                         tokens=usage(1500, 40)),
        _submission(finding_key),
    )

    run = create_run(loaded)

    assert run["status"] == "completed", run["statusReason"]
    llm_use = run["llm"]
    assert (llm_use["ran"], llm_use["degraded"], llm_use["turns"]) == (True, False, 2)
    assert (llm_use["inputTokens"], llm_use["outputTokens"]) == (3500, 340)
    assert llm_use["inventedIdsRemoved"] == 1
    assert llm_use["costUsd"] is not None and llm_use["costUsd"] > 0
    report_text = Path(run["reportPath"]).read_text(encoding="utf-8")
    assert "list_files is pointed at a directory that does not exist" in report_text
    assert "Resolve subdir against the repository root" in report_text
    assert f"list_files fails on a missing directory in trace {REAL_TRACE}." in report_text
    assert INVENTED_TRACE not in report_text
    assert f"LLM pass: ran with `{llm.default_model_id()}` (2 turns" in report_text
    events = runs.run_events(loaded, run["runId"], limit=1000)
    assert [event.kind for event in events].count("llm_turn") == 2
    assert any(event.kind == "tool_call" and event.detail.get("tool") == "run_sql" for event in events)
    sent = fake_anthropic.message_requests
    assert len(sent) == 2 and sent[0]["model"] == llm.default_model_id()


def test_a_turns_tool_calls_are_written_together_with_the_next_event_in_order(
        loaded: Store, fake_anthropic: FakeAnthropic, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each tool call used to cost a transaction and a database opening of its own (136 in the secret-corpus
    run): a turn's calls are held and written with the run's next write, keeping the timeline's order."""
    monkeypatch.setenv("HALO_HEARTBEAT_SECONDS", "3600")  # one beat at the start: no beat writes them earlier
    written: list[tuple[Any, str]] = []  # the connections themselves, kept alive: an id could be reused
    insert_event = runs.control.insert_event

    def recording(connection: Any, run_id: str, kind: str, *args: Any) -> None:
        written.append((connection, kind))
        insert_event(connection, run_id, kind, *args)

    monkeypatch.setattr(runs.control, "insert_event", recording)
    tools = ["run_sql", "search_spans", "view_trace"]
    fake_anthropic.push(
        tool_use_message([("run_sql", {"sql": "SELECT count(*) FROM spans"}), ("search_spans", {"query": "missing"}),
                          ("view_trace", {"trace_id": REAL_TRACE})]),
        _submission(None),
    )

    run = create_run(loaded)

    assert run["status"] == "completed", run["statusReason"]
    kinds = [event.kind for event in runs.run_events(loaded, run["runId"], limit=1000)]
    first_turn = kinds.index("llm_turn")
    assert kinds[first_turn:first_turn + 5] == ["llm_turn", "tool_call", "tool_call", "tool_call", "llm_turn"]
    events = runs.run_events(loaded, run["runId"], limit=1000)
    assert [event.detail["tool"] for event in events if event.kind == "tool_call"] == tools
    calls = [index for index, (_, kind) in enumerate(written) if kind == "tool_call"]
    assert len(calls) == 3 and written[calls[-1] + 1][1] == "llm_turn"
    assert all(written[index][0] is written[calls[-1] + 1][0] for index in calls)  # one transaction


def test_rate_limit_then_success_is_retried(loaded: Store, fake_anthropic: FakeAnthropic) -> None:
    fake_anthropic.push(error_reply(429, "rate_limit_error", headers={"retry-after": "0"}), _submission(None))
    run = create_run(loaded)
    assert run["status"] == "completed" and run["llm"]["ran"] is True
    assert "retry" in [event.kind for event in runs.run_events(loaded, run["runId"], limit=1000)]


def test_repeated_server_errors_degrade_the_run(loaded: Store, fake_anthropic: FakeAnthropic) -> None:
    fake_anthropic.push(*[error_reply(500, "api_error") for _ in range(3)])
    run = create_run(loaded)
    assert run["status"] == "completed"
    assert run["llm"]["degraded"] is True and run["llm"]["ran"] is False
    assert "llm_failed" in [event.kind for event in runs.run_events(loaded, run["runId"], limit=1000)]
    assert "LLM pass: failed (" in Path(run["reportPath"]).read_text(encoding="utf-8")


@pytest.mark.parametrize("reply", [
    FakeReply(raw=b"{not json at all"),
    FakeReply(body=text_message("x"), truncate=True),
], ids=["malformed", "truncated"])
def test_malformed_and_truncated_responses_degrade_the_run(loaded: Store, fake_anthropic: FakeAnthropic,
                                                          reply: FakeReply) -> None:
    fake_anthropic.push(*[reply] * 3)
    run = create_run(loaded)
    assert run["status"] == "completed"
    assert run["llm"]["degraded"] is True


def test_cancel_during_an_llm_call_ends_the_run_before_the_server_answers(
        loaded: Store, fake_anthropic: FakeAnthropic, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runs.worker, "start_worker", lambda store, run_id: 0)
    fake_anthropic.push(FakeReply(body=text_message("too late"), held=True))
    queued = create_run(loaded, wait=False)
    outcome: list[str] = []
    worker = threading.Thread(target=lambda: outcome.append(runs.execute_run(loaded, queued["runId"])))
    worker.start()
    wait_until(lambda: len(fake_anthropic.requests) >= 1)

    assert runs.cancel_run(loaded, queued["runId"], reason="stop now", wait_seconds=0)[1] is True
    worker.join()

    assert fake_anthropic.answered == 0  # the run ended while its LLM call was still held
    assert outcome == ["cancelled"]
    cancelled = runs.get_run(loaded, queued["runId"]).to_json()
    assert (cancelled["status"], cancelled["statusReason"]) == ("cancelled", "stop now")


def test_secrets_in_span_content_never_reach_the_server(store: Store, fake_anthropic: FakeAnthropic) -> None:
    insert_spans(store, agent_traces(2))
    insert_spans(store, [span(9, 0, start=BASE, span_type="tool", name="deploy", tool_name="deploy",
                              tool_arguments=f'{{"token": "{SECRET}", "url": "https://bob:hunter2@db.local/x"}}',
                              output_text=f"using key {SECRET}")])
    fake_anthropic.push(
        tool_use_message([("run_sql", {"sql": "SELECT tool_arguments, output_text FROM spans"})]),
        tool_use_message([("search_spans", {"text": "key"})]),
        _submission(None),
    )
    run = create_run(store)
    assert run["status"] == "completed" and run["llm"]["ran"] is True
    sent = fake_anthropic.all_sent_text()
    assert len(fake_anthropic.message_requests) == 3
    assert SECRET not in sent and "hunter2" not in sent


def test_followup_with_the_llm_answers_in_the_conversation(analysed_helper: AnalysedHome, analysed_helper_store: Store,
                                                           fake_anthropic: FakeAnthropic) -> None:
    """On conftest's finished heuristics-only analysis (a copy): an analysis of its own cost ~1.5 CPU-s."""
    loaded, run = analysed_helper_store, analysed_helper.run
    fake_anthropic.push(text_message("Fix list_files first: it fails in 3 of 5 traces."))

    answered = usecases.ask(loaded, run["conversationId"], "What should I fix first?").to_json()

    assert answered["status"] == "completed"
    assert answered["answer"].startswith("> **Answer written by the LLM** (`claude-sonnet-5-5`; fixed text")
    assert answered["answer"].endswith("\n---\n\nFix list_files first: it fails in 3 of 5 traces.\n")
    followup_request = fake_anthropic.message_requests[-1]
    sent_text = str(followup_request["messages"])
    assert "What should I fix first?" in sent_text and "# Trace analysis: Helper" in sent_text
    assert answered["run"]["llm"]["ran"] is True
    messages = usecases.get_conversation(loaded, run["conversationId"])["messages"]
    assert [message["role"] for message in messages] == ["user", "assistant", "user", "assistant"]


def _ask(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`halo-local conversation ask ...` in this process (pointed at the fake Messages API by `fake_anthropic`):
    exit code, stdout, stderr. The CLI's real-process paths are test_cli_runs.py's."""
    code = cli.main(["conversation", "ask", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_rejected_key_degrades_the_run_and_says_so(loaded: Store, fake_anthropic: FakeAnthropic) -> None:
    fake_anthropic.push(error_reply(401, "authentication_error", "invalid x-api-key"))
    run = create_run(loaded)
    assert run["status"] == "completed"
    assert run["statusReason"] == ("LLM pass failed (the LLM endpoint rejected the API key; check ANTHROPIC_API_KEY);"
                                   " the report is heuristics-only (degraded)")
    assert run["llm"]["error"] == "the LLM endpoint rejected the API key; check ANTHROPIC_API_KEY"
    assert "rejected the API key" in Path(run["reportPath"]).read_text(encoding="utf-8")
    assert len(fake_anthropic.requests) == 1


def test_a_long_retry_after_ends_at_the_time_limit_with_the_report_kept(loaded: Store, fake_anthropic: FakeAnthropic,
                                                                        fake_clock: FakeClock) -> None:
    fake_anthropic.push(error_reply(429, "rate_limit_error", headers={"retry-after": "30"}))
    run = create_run(loaded, time_limit_seconds=2)
    assert 2 < fake_clock.slept <= 2 + POLL_SECONDS  # the 30 s wait was cut at the 2 s limit
    assert run["status"] == "timed_out" and "time limit" in run["statusReason"]
    assert run["llm"]["degraded"] is True and "time limit" in run["llm"]["error"]
    assert Path(run["reportPath"]).exists()
    assert len(fake_anthropic.requests) == 1
    assert [event.kind for event in runs.run_events(loaded, run["runId"], limit=1000)].count("retry") == 1

    fake_anthropic.push(text_message("Fix list_files first."))
    answered = usecases.ask(loaded, run["conversationId"], "What should I fix first?").to_json()
    assert answered["status"] == "completed"
    assert answered["answer"].endswith("\n---\n\nFix list_files first.\n")

    fake_anthropic.push(error_reply(529, "overloaded_error", headers={"retry-after": "30"}))
    stopped = usecases.ask(loaded, run["conversationId"], "Why does list_files fail?").to_json()
    assert stopped["status"] == "timed_out" and "time limit" in stopped["statusReason"]
    assert "list_files" in stopped["answer"] and "time limit" in stopped["answer"]
    assert runs.list_runs(loaded, conversation_id=run["conversationId"], limit=10)[0].status == "timed_out"


def test_conversation_ask_when_the_llm_refuses_or_the_context_is_full(analysed_helper: AnalysedHome,
                                                                       analysed_helper_store: Store,
                                                                       fake_anthropic: FakeAnthropic,
                                                                       monkeypatch: pytest.MonkeyPatch,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HALO_LLM_MAX_RETRIES", "0")
    run = analysed_helper.run
    fake_anthropic.push(text_message("I won't.", stop_reason="refusal"),
                        error_reply(400, "invalid_request_error", "prompt is too long: 999999 tokens > 200000 maximum"))
    capsys.readouterr()

    code, out, err = _ask(capsys, run["conversationId"], "why does list_files fail?")
    assert code == 0, err
    assert "declined to continue" in out and "list_files" in out
    assert "I won't." not in out and "Traceback" not in err

    code, out, err = _ask(capsys, run["conversationId"], "x" * 100_000, "--json")
    document = json.loads(out)
    assert code == 0 and document["status"] == "completed"
    assert "too large for the model" in document["statusReason"] and document["run"]["llm"]["degraded"] is True

    code, out, err = _ask(capsys, run["conversationId"], "  ")
    assert (code, out) == (2, "")
    assert err.startswith("Error: the question is empty\n")
    assert len(fake_anthropic.requests) == 2


def test_a_planted_otel_header_never_reaches_the_server(store: Store, fake_anthropic: FakeAnthropic) -> None:
    insert_spans(store, agent_traces(2))
    insert_spans(store, [span(9, 0, start=BASE, span_type="tool", name="http GET", tool_name="http", status="error",
                              attributes=json.dumps({"http.request.header.authorization": ["Basic dXNlcjpwYXNz"]}),
                              error_message="401 for Authorization: Basic dXNlcjpwYXNz")])
    fake_anthropic.push(
        tool_use_message([("run_sql", {"sql": "SELECT upper(attributes::VARCHAR), error_message FROM spans"}),
                          ("get_span", {"span_id": f"{9:04x}{0:012x}"})]),
        _submission(None),
    )
    run = create_run(store)
    assert run["llm"]["ran"] is True
    sent = fake_anthropic.all_sent_text()
    assert "dXNlcjpwYXNz" not in sent and "DXNLCJPWYXNZ" not in sent
