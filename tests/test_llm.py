"""The LLM pass through the real anthropic SDK against the fake Messages API on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fake_anthropic import (
    FakeAnthropic,
    FakeReply,
    error_reply,
    fake_anthropic,  # noqa: F401  (fixture)
    message,
    text_message,
    tool_use_message,
    usage,
    write_spans_parquet,
)
from fake_clock import FakeClock

from halo_local import sandbox as sandbox_module
from halo_local.errors import UsageError
from halo_local.llm import (
    LlmCancelled,
    LlmContextTooLong,
    LlmError,
    answer_followup,
    default_model_id,
    llm_skip_reason,
    model_catalog,
    resolve_model_id,
    run_analysis,
)
from halo_local.llm.client import POLL_SECONDS
from halo_local.llm.models import CallUsage, cost_usd

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
ROOT_SPAN = "00f067aa0ba902b7"
LLM_SPAN = "a1b2c3d4e5f60718"
TOOL_SPAN = "b7ad6b7169203331"
SECRET_SPAN = "c0ffee00c0ffee01"
INVENTED_TRACE = "abcdef0123456789abcdef0123456789"
INVENTED_SPAN = "deadbeef00112233"
T0 = 1_767_225_600_000_000_000
FINDING_KEY = "tool_errors:search"

SECRETS = {
    "anthropic key": "sk-ant-api03-SECRETSECRETSECRET1234",
    "bearer": "abcdef123456789xyz",
    "url password": "hunter2pass",
    "password pair": "Tr0ub4dor",
    "aws": "AKIAIOSFODNN7EXAMPLE",
    "pem": "MIIEvQIBADANBgkqhkiG9w0BAQ",
    "github": "ghp_" + "Z" * 36,
    "slack": "xoxb-123456789012-abcdefghij",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
}

SPANS = [
    {"trace_id": TRACE, "span_id": ROOT_SPAN, "name": "invoke_agent planner", "span_type": "agent",
     "start_ns": T0, "duration_ms": 4200.0, "status_code": "ok"},
    {"trace_id": TRACE, "span_id": LLM_SPAN, "parent_span_id": ROOT_SPAN, "name": "chat claude", "span_type": "llm",
     "start_ns": T0 + 1_000_000, "duration_ms": 1500.0, "model": "claude-sonnet-4-5", "input_tokens": 1200,
     "output_tokens": 300},
    {"trace_id": TRACE, "span_id": TOOL_SPAN, "parent_span_id": LLM_SPAN, "name": "execute_tool search",
     "span_type": "tool", "start_ns": T0 + 2_000_000_000, "duration_ms": 800.0, "tool_name": "search",
     "status_code": "error", "error_type": "QuotaError", "error_message": "Quota exceeded for index"},
    {"trace_id": TRACE, "span_id": SECRET_SPAN, "parent_span_id": ROOT_SPAN, "name": "http call", "span_type": "tool",
     "start_ns": T0 + 3_000_000_000, "duration_ms": 50.0, "status_code": "error",
     "error_message": f"auth failed for {SECRETS['anthropic key']}",
     "tool_arguments": json.dumps({"password": SECRETS["password pair"] + "&3", "user": "app"}),
     "input_text": f"-----BEGIN PRIVATE KEY-----\n{SECRETS['pem']}xyz\n-----END PRIVATE KEY-----\nkey {SECRETS['aws']}",
     "output_text": f"token {SECRETS['jwt']}",
     "attributes": json.dumps({"http.request.header.authorization": f"Bearer {SECRETS['bearer']}",
                               "db.url": f"postgres://app:{SECRETS['url password']}@db/prod"})},
]


@dataclass(frozen=True)
class StandInFinding:
    """Stands in for halo_local.heuristics.Finding: a key and a to_json() document."""

    data: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.data["key"]

    def to_json(self) -> dict[str, Any]:
        return dict(self.data)


FINDING = StandInFinding({
    "key": FINDING_KEY, "category": "tool_errors", "severity": "high", "title": "search tool fails",
    "subject": "search", "agent_uuid": "00000000-0000-5000-8000-000000000001", "metric": "error_rate",
    "value": 0.5, "baseline": 0.05, "affected_traces": 1, "affected_spans": 2, "trace_share": 1.0,
    "span_share": 0.5, "impact_seconds": 0.85, "impact_usd": None, "failed_traces": 1,
    "first_seen": "2026-01-01T00:00:02Z", "last_seen": "2026-01-01T00:00:03Z",
    "example_trace_ids": [TRACE], "example_span_ids": [TOOL_SPAN],
    "detail": f"example error: {SECRETS['aws']} rejected",
})


class Recorder:
    """on_event and should_cancel for a run, remembering every event; cancels once `cancel_when` holds
    or once an event of kind `cancel_on` was seen (never on a timer, which a loaded machine can outrun)."""

    def __init__(self, cancel_when: Callable[[], bool] | None = None, cancel_on: str | None = None) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self._cancel_when = cancel_when
        self._cancel_on = cancel_on

    def __call__(self, kind: str, detail: dict[str, Any]) -> None:
        self.events.append((kind, detail))

    def should_cancel(self) -> bool:
        if self._cancel_on is not None and self.of(self._cancel_on):
            return True
        return self._cancel_when is not None and self._cancel_when()

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [detail for event, detail in self.events if event == kind]


@pytest.fixture
def snapshot(tmp_path: Path) -> Path:
    return write_spans_parquet(tmp_path / "snapshot.parquet", SPANS)


def analyse(snapshot: Path, recorder: Recorder, **overrides: Any):
    arguments: dict[str, Any] = {
        "snapshot": snapshot, "findings": [FINDING], "prompt": "",
        "context": {"agentName": "planner", "windowStart": "2026-01-01T00:00:00Z", "spanCount": len(SPANS)},
        "model_id": "claude-sonnet-5-5", "max_turns": 6, "max_subagent_depth": 1,
        "on_event": recorder, "should_cancel": recorder.should_cancel,
    }
    arguments.update(overrides)
    return run_analysis(**arguments)


def submit(summary: str = "Search fails on quota.", notes: list[dict[str, Any]] | None = None, **kwargs: Any):
    if notes is None:
        notes = [note(rank=1)]
    return tool_use_message([("submit_analysis", {"summary": summary, "notes": notes})], **kwargs)


def note(*, rank: int, finding_key: str | None = FINDING_KEY, trace_ids: list[str] | None = None,
         span_ids: list[str] | None = None, title: str = "Search index quota exhausted") -> dict[str, Any]:
    return {"finding_key": finding_key, "title": title, "rank": rank,
            "likely_cause": "The index quota is too small.", "fix": "Raise the quota or cache results.",
            "trace_ids": trace_ids if trace_ids is not None else [TRACE],
            "span_ids": span_ids if span_ids is not None else [TOOL_SPAN]}


def cache_breakpoints(request: dict[str, Any]) -> int:
    text = json.dumps(request)
    return text.count('"cache_control"')


# --- models and skipping -------------------------------------------------------------------------


def test_catalog_marks_one_default_and_every_model_is_priced() -> None:
    catalog = model_catalog()
    assert [model.model_id for model in catalog if model.default] == [default_model_id()]
    assert catalog[0].default
    for model in catalog:
        assert cost_usd(model.model_id, [CallUsage(1000, 100, 500, 100)]) > 0, model.model_id


def test_resolve_model_id() -> None:
    assert resolve_model_id(None) == default_model_id()
    assert resolve_model_id(" CLAUDE-HAIKU-4-5 ") == "claude-haiku-4-5"
    with pytest.raises(UsageError) as caught:
        resolve_model_id("gpt-4o")
    assert "gpt-4o" in caught.value.message
    assert all(model.model_id in caught.value.message for model in model_catalog())


def test_llm_skip_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    assert llm_skip_reason(True) == "--no-llm was given"
    assert llm_skip_reason(False) == "ANTHROPIC_API_KEY is not set"
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-whatever")
    assert llm_skip_reason(False) is None
    assert llm_skip_reason(True) == "--no-llm was given"


def test_cost_is_summed_per_call_and_unknown_models_are_unpriced() -> None:
    one = cost_usd("claude-sonnet-5-5", [CallUsage(1000, 100, 0, 0)])
    assert cost_usd("claude-sonnet-5-5", [CallUsage(1000, 100, 0, 0)] * 3) == pytest.approx(3 * one)
    assert cost_usd("no-such-model", [CallUsage(1000, 100, 0, 0)]) is None


def test_bad_arguments_fail_before_any_request(fake_anthropic: FakeAnthropic, snapshot: Path) -> None:
    with pytest.raises(UsageError):
        analyse(snapshot, Recorder(), model_id="claude-sonnet-4-5")  # deprecated: end of life Nov 2026
    with pytest.raises(UsageError):
        analyse(snapshot, Recorder(), max_turns=0)
    with pytest.raises(UsageError):
        analyse(snapshot, Recorder(), max_subagent_depth=6)
    assert fake_anthropic.requests == []


def test_missing_key_is_an_llm_error(snapshot: Path) -> None:
    recorder = Recorder()
    with pytest.raises(LlmError, match="ANTHROPIC_API_KEY is not set"):
        analyse(snapshot, recorder)
    assert recorder.of("llm_error")


# --- the agent loop ------------------------------------------------------------------------------


def test_multi_turn_tool_use_with_verified_ids(fake_anthropic: FakeAnthropic, snapshot: Path) -> None:
    fake_anthropic.push(
        tool_use_message([("run_sql", {"sql": "SELECT span_type, count(*) AS n FROM spans GROUP BY ALL ORDER BY 1"}),
                          ("view_trace", {"trace_id": TRACE})], tokens=usage(1000, 50, cache_write=2000)),
        tool_use_message([("search_spans", {"text": "QUOTA"})], tokens=usage(200, 30, cache_read=2500)),
        submit(
            summary=f"Search fails in trace {TRACE}; see also {INVENTED_TRACE}.",
            notes=[note(rank=2, trace_ids=[TRACE, INVENTED_TRACE], span_ids=[TOOL_SPAN, INVENTED_SPAN]),
                   note(rank=1, finding_key=None, title=f"Planner retries blindly ({LLM_SPAN})",
                        trace_ids=[LLM_SPAN], span_ids=[])],
            tokens=usage(300, 400, cache_read=2700),
        ),
    )
    recorder = Recorder()
    result = analyse(snapshot, recorder)

    assert result.turns == 3
    assert [(item.rank, item.finding_key) for item in result.notes] == [(1, None), (2, FINDING_KEY)]
    new_issue, explained = result.notes
    assert explained.trace_ids == (TRACE,) and explained.span_ids == (TOOL_SPAN,)
    assert new_issue.trace_ids == () and new_issue.span_ids == (LLM_SPAN,)  # a span id filed as a trace id moves
    assert new_issue.title == f"Planner retries blindly ({LLM_SPAN})"
    assert result.invented_ids_removed == 3
    assert TRACE in result.summary and INVENTED_TRACE not in result.summary
    assert "[unverified id]" in result.summary
    assert (result.input_tokens, result.output_tokens) == (1000 + 2000 + 200 + 2500 + 300 + 2700, 480)
    assert (result.cache_read_tokens, result.cache_write_tokens) == (5200, 2000)
    assert result.cost_usd == pytest.approx(cost_usd("claude-sonnet-5-5", [
        CallUsage(3000, 50, 0, 2000), CallUsage(2700, 30, 2500, 0), CallUsage(3000, 400, 2700, 0)]))
    assert result.model_id == "claude-sonnet-5-5"

    first, second, third = fake_anthropic.message_requests
    headers = fake_anthropic.requests[0].headers
    assert "sk-ant-test-fake-key-not-a-secret" in headers.get("x-api-key", "") + headers.get("authorization", "")
    assert first["model"] == "claude-sonnet-5-5" and first["tool_choice"] == {"type": "auto"}
    assert first["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert first["tools"][-1]["name"] == "submit_analysis" and "cache_control" in first["tools"][-1]
    assert {tool["name"] for tool in first["tools"]} >= {"run_sql", "view_trace", "get_span", "search_spans",
                                                          "delegate_finding"}
    findings_block = first["messages"][0]["content"][0]
    assert findings_block["cache_control"] == {"type": "ephemeral"} and FINDING_KEY in findings_block["text"]
    results = second["messages"][-1]["content"]
    assert [block["type"] for block in results] == ["tool_result", "tool_result"]
    assert "llm | 1" in results[0]["content"] and "tool | 2" in results[0]["content"]
    assert f"execute_tool search [tool]  span {TOOL_SPAN}" in results[1]["content"]
    assert results[-1]["cache_control"] == {"type": "ephemeral"}  # the moving breakpoint
    assert "Quota exceeded" in third["messages"][-1]["content"][0]["content"]
    assert all(cache_breakpoints(request) <= 4 for request in (first, second, third))
    assert "cache_control" not in json.dumps(third["messages"][1])  # old breakpoints do not pile up

    assert [detail["turn"] for detail in recorder.of("llm_turn")] == [1, 2, 3]
    assert [detail["tool"] for detail in recorder.of("tool_call")] == ["run_sql", "view_trace", "search_spans"]
    assert recorder.of("tool_call")[0]["rows"] == 3
    assert recorder.of("llm_error") == []


def test_plain_text_ending_is_the_summary(fake_anthropic: FakeAnthropic, snapshot: Path) -> None:
    fake_anthropic.push(text_message("Nothing to fix: the errors are expected quota probes."))
    result = analyse(snapshot, Recorder())
    assert result.summary == "Nothing to fix: the errors are expected quota probes."
    assert result.notes == [] and result.turns == 1


def test_last_turn_forces_the_submission(fake_anthropic: FakeAnthropic, snapshot: Path) -> None:
    fake_anthropic.push(tool_use_message([("run_sql", {"sql": "SELECT 1"})]), submit())
    result = analyse(snapshot, Recorder(), max_turns=2)
    assert len(result.notes) == 1
    first, last = fake_anthropic.message_requests
    assert first["tool_choice"] == {"type": "auto"}
    assert last["tool_choice"] == {"type": "tool", "name": "submit_analysis"}


def test_invalid_submission_is_sent_back_to_fix(fake_anthropic: FakeAnthropic, snapshot: Path) -> None:
    fake_anthropic.push(
        submit(notes=[{"title": "", "rank": "first"}, note(rank=1, finding_key="no_such_finding")]),
        submit(notes=[note(rank=1)]),
    )
    result = analyse(snapshot, Recorder())
    assert [item.finding_key for item in result.notes] == [FINDING_KEY]
    rejection = fake_anthropic.message_requests[1]["messages"][-1]["content"][0]
    assert rejection["is_error"] is True
    assert "not accepted" in rejection["content"] and "no_such_finding" in rejection["content"]


def test_refused_sql_goes_back_to_the_model_as_an_error(fake_anthropic: FakeAnthropic, snapshot: Path) -> None:
    fake_anthropic.push(tool_use_message([("run_sql", {"sql": "SELECT * FROM read_csv('/etc/passwd')"})]), submit())
    recorder = Recorder()
    analyse(snapshot, recorder)
    result_block = fake_anthropic.message_requests[1]["messages"][-1]["content"][0]
    assert result_block["is_error"] is True and "disabled by configuration" in result_block["content"]
    assert "root:" not in fake_anthropic.all_sent_text()
    assert recorder.of("tool_call")[0]["error"] is True


def test_subagent_investigates_a_finding(fake_anthropic: FakeAnthropic, snapshot: Path) -> None:
    fake_anthropic.push(
        tool_use_message([("delegate_finding", {"finding_key": FINDING_KEY, "question": "Why does search fail?"})]),
        tool_use_message([("get_span", {"span_id": TOOL_SPAN})]),
        submit(summary=f"Quota errors start at {TOOL_SPAN}; not {INVENTED_SPAN}."),
        submit(),
    )
    recorder = Recorder()
    result = analyse(snapshot, recorder, max_subagent_depth=1)
    assert result.turns == 4 and len(result.notes) == 1
    assert result.invented_ids_removed == 1
    assert recorder.of("subagent") == [{"findingKey": FINDING_KEY, "depth": 1}]
    main_first, sub_first, sub_second, main_last = fake_anthropic.message_requests
    assert "delegate_finding" in {tool["name"] for tool in main_first["tools"]}
    assert "delegate_finding" not in {tool["name"] for tool in sub_first["tools"]}  # depth limit reached
    assert "sub-agent" in sub_first["system"][0]["text"]
    assert "Why does search fail?" in sub_first["messages"][0]["content"][0]["text"]
    report = json.loads(main_last["messages"][-1]["content"][0]["content"])
    assert report["summary"] == f"Quota errors start at {TOOL_SPAN}; not [unverified id]."
    assert report["notes"][0]["spanIds"] == [TOOL_SPAN]
    assert [detail["depth"] for detail in recorder.of("llm_turn")] == [0, 1, 1, 0]


def test_deeper_delegation_is_offered_down_to_the_limit(fake_anthropic: FakeAnthropic, snapshot: Path) -> None:
    delegate = ("delegate_finding", {"finding_key": FINDING_KEY, "question": "dig deeper"})
    fake_anthropic.push(tool_use_message([delegate]), tool_use_message([delegate]), submit(), submit(), submit())
    recorder = Recorder()
    analyse(snapshot, recorder, max_subagent_depth=2)
    offered = [{tool["name"] for tool in request["tools"]} for request in fake_anthropic.message_requests]
    assert ["delegate_finding" in names for names in offered] == [True, True, False, True, True]
    assert [detail["depth"] for detail in recorder.of("subagent")] == [1, 2]


def test_secrets_in_spans_and_findings_never_reach_the_server(fake_anthropic: FakeAnthropic, snapshot: Path) -> None:
    fake_anthropic.push(
        tool_use_message([
            ("get_span", {"span_id": SECRET_SPAN}),
            ("run_sql", {"sql": f"SELECT * FROM spans WHERE span_id = '{SECRET_SPAN}'"}),
            ("view_trace", {"trace_id": TRACE}),
            ("search_spans", {"text": "auth failed"}),
        ]),
        submit(),
    )
    analyse(snapshot, Recorder(), prompt=f"Use {SECRETS['slack']} and {SECRETS['github']} if needed",
            context={"agentName": "planner", "note": f"deploy key {SECRETS['github']}"})
    sent = fake_anthropic.all_sent_text()
    assert "[REDACTED]" in sent
    leaked = [name for name, secret in SECRETS.items() if secret in sent]
    assert leaked == []
    span_text = fake_anthropic.message_requests[1]["messages"][-1]["content"][0]["content"]
    assert "postgres://app:[REDACTED]@db/prod" in span_text  # the rest of the span stays readable


# --- retries, failures, cancellation ---------------------------------------------------------------


@pytest.mark.parametrize(("status", "error_type"), [(429, "rate_limit_error"), (529, "overloaded_error"),
                                                    (500, "api_error")])
def test_transient_error_then_success(fake_anthropic: FakeAnthropic, snapshot: Path, status: int,
                                      error_type: str) -> None:
    fake_anthropic.push(error_reply(status, error_type), submit())
    recorder = Recorder()
    result = analyse(snapshot, recorder)
    assert len(result.notes) == 1
    assert len(fake_anthropic.requests) == 2
    assert [(detail["status"], detail["attempt"]) for detail in recorder.of("retry")] == [(status, 1)]


def test_repeated_server_errors_raise_llm_error(fake_anthropic: FakeAnthropic, snapshot: Path) -> None:
    fake_anthropic.push(*[error_reply(500, "api_error", "boom") for _ in range(3)], submit())
    recorder = Recorder()
    with pytest.raises(LlmError, match=r"after 3 attempts \(500\)"):
        analyse(snapshot, recorder)
    assert len(fake_anthropic.requests) == 3  # HALO_LLM_MAX_RETRIES=2 in the fixture
    assert len(recorder.of("retry")) == 2
    assert recorder.of("llm_error") and "500" in recorder.of("llm_error")[0]["message"]


def test_client_errors_are_not_retried(fake_anthropic: FakeAnthropic, snapshot: Path) -> None:
    fake_anthropic.push(error_reply(401, "authentication_error", "invalid x-api-key"))
    with pytest.raises(LlmError, match="rejected the API key"):
        analyse(snapshot, Recorder())
    assert len(fake_anthropic.requests) == 1


@pytest.mark.parametrize("reply", [
    FakeReply(raw=b'{"id": "msg_1", "type": "message", "content": ['),
    FakeReply(body={"id": "msg_1", "type": "message"}),
    FakeReply(body={"id": "msg_1", "type": "message", "role": "assistant", "model": "m", "stop_reason": "tool_use",
                    "content": [{"type": "tool_use", "id": "toolu_1", "name": "run_sql"}],
                    "usage": {"input_tokens": 1, "output_tokens": 1}}),
], ids=["invalid-json", "no-content", "tool-use-without-input"])
def test_malformed_responses_raise_llm_error(fake_anthropic: FakeAnthropic, snapshot: Path,
                                             reply: FakeReply) -> None:
    fake_anthropic.push(reply)
    recorder = Recorder()
    with pytest.raises(LlmError, match="malformed response"):
        analyse(snapshot, recorder)
    assert recorder.of("llm_error")


def test_truncated_response_is_retried(fake_anthropic: FakeAnthropic, snapshot: Path) -> None:
    fake_anthropic.push(FakeReply(body=submit(), truncate=True), submit())
    recorder = Recorder()
    assert len(analyse(snapshot, recorder).notes) == 1
    assert recorder.of("retry")[0]["status"] == "connection"


def test_truncated_every_time_raises_llm_error(fake_anthropic: FakeAnthropic, snapshot: Path) -> None:
    fake_anthropic.push(*[FakeReply(body=submit(), truncate=True) for _ in range(3)])
    with pytest.raises(LlmError, match="after 3 attempts"):
        analyse(snapshot, Recorder())


def test_timeout_is_retried(fake_anthropic: FakeAnthropic, snapshot: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HALO_LLM_TIMEOUT", "0.3")
    fake_anthropic.push(FakeReply(body=submit(), held=True), submit())
    recorder = Recorder()
    assert len(analyse(snapshot, recorder).notes) == 1
    assert recorder.of("retry")[0]["status"] == "timeout"


def test_cancel_during_a_call_returns_before_the_server_answers(fake_anthropic: FakeAnthropic,
                                                                snapshot: Path) -> None:
    fake_anthropic.push(FakeReply(body=submit(), held=True))
    recorder = Recorder(cancel_when=lambda: bool(fake_anthropic.requests))
    with pytest.raises(LlmCancelled):
        analyse(snapshot, recorder)
    assert fake_anthropic.answered == 0
    assert len(fake_anthropic.requests) == 1
    assert recorder.of("llm_error") == []


def test_cancel_during_backoff(fake_anthropic: FakeAnthropic, snapshot: Path, monkeypatch: pytest.MonkeyPatch,
                               fake_clock: FakeClock) -> None:
    monkeypatch.setenv("HALO_LLM_RETRY_DELAY", "30")
    fake_anthropic.push(error_reply(529, "overloaded_error"), submit())
    with pytest.raises(LlmCancelled):
        analyse(snapshot, Recorder(cancel_on="retry"))
    assert fake_clock.slept <= POLL_SECONDS  # honoured at the first poll of a wait of at least 22.5 s
    assert len(fake_anthropic.requests) == 1


# --- follow-up questions -------------------------------------------------------------------------


def test_followup_answers_with_tools_and_verified_ids(fake_anthropic: FakeAnthropic, snapshot: Path) -> None:
    fake_anthropic.push(
        tool_use_message([("view_trace", {"trace_id": TRACE})]),
        text_message(f"It fails at span {TOOL_SPAN} (quota), not at {INVENTED_SPAN}."),
    )
    recorder = Recorder()
    result = answer_followup(
        snapshot=snapshot, report_markdown="# Report\nSearch fails.", findings=[FINDING],
        history=[("assistant", "# Report\nSearch fails."), ("user", "Is it the planner?"), ("assistant", "No.")],
        question="Where exactly does search fail?", model_id="claude-sonnet-5-5", max_turns=2,
        on_event=recorder, should_cancel=recorder.should_cancel,
    )
    assert result.summary == f"It fails at span {TOOL_SPAN} (quota), not at [unverified id]."
    assert result.notes == [] and result.invented_ids_removed == 1 and result.turns == 2
    first, last = fake_anthropic.message_requests
    roles = [(message["role"], message["content"][0].get("text")) for message in first["messages"]]
    assert [role for role, _ in roles] == ["user", "assistant", "user", "assistant", "user"]
    assert roles[1][1] == "# Report\nSearch fails." and roles[-1][1] == "Where exactly does search fail?"
    assert first["messages"][1]["content"][0]["cache_control"] == {"type": "ephemeral"}
    assert "submit_analysis" not in {tool["name"] for tool in first["tools"]}
    assert last["tool_choice"] == {"type": "none"}
    assert "execute_tool search" in last["messages"][-1]["content"][0]["content"]


# --- what the real API does when things go wrong ---------------------------------------------------


@pytest.mark.parametrize("reply", [
    text_message("I can't help with that.", stop_reason="refusal"),
    message([], stop_reason="refusal"),
], ids=["with-text", "empty"])
def test_a_refusal_ends_the_pass_instead_of_becoming_the_summary(fake_anthropic: FakeAnthropic, snapshot: Path,
                                                                 reply: dict[str, Any]) -> None:
    fake_anthropic.push(reply, submit())
    recorder = Recorder()
    with pytest.raises(LlmError, match=r"declined to continue \(stop_reason refusal\)"):
        analyse(snapshot, recorder)
    assert len(fake_anthropic.requests) == 1  # asking again gets the same refusal
    assert recorder.of("llm_error")


def test_a_refusing_subagent_is_reported_to_the_main_agent(fake_anthropic: FakeAnthropic, snapshot: Path) -> None:
    fake_anthropic.push(
        tool_use_message([("delegate_finding", {"finding_key": FINDING_KEY, "question": "why?"})]),
        text_message("No.", stop_reason="refusal"),
        submit(),
    )
    assert len(analyse(snapshot, Recorder()).notes) == 1
    sub_report = fake_anthropic.message_requests[-1]["messages"][-1]["content"][0]
    assert sub_report["is_error"] is True and "declined" in sub_report["content"]


def test_empty_replies_end_the_pass_before_max_turns(fake_anthropic: FakeAnthropic, snapshot: Path) -> None:
    fake_anthropic.push(*[message([])] * 10)
    with pytest.raises(LlmError, match="3 empty replies in a row"):
        analyse(snapshot, Recorder(), max_turns=10)
    assert len(fake_anthropic.requests) == 3


def test_a_conversation_that_outgrows_the_context_window_elides_older_tool_output(
        fake_anthropic: FakeAnthropic, snapshot: Path) -> None:
    too_long = error_reply(400, "invalid_request_error", "prompt is too long: 215000 tokens > 200000 maximum")
    fake_anthropic.push(
        tool_use_message([("view_trace", {"trace_id": TRACE})]),
        tool_use_message([("search_spans", {"text": "quota"})]),
        too_long,
        submit(),
    )
    recorder = Recorder()
    result = analyse(snapshot, recorder)
    assert len(result.notes) == 1 and result.turns == 3
    refused, resent = fake_anthropic.message_requests[2:]
    assert len(json.dumps(resent)) < len(json.dumps(refused))
    results = [block for item in resent["messages"] for block in item["content"] if block["type"] == "tool_result"]
    assert "output elided" in results[0]["content"] and "Quota exceeded" in results[1]["content"]
    assert recorder.of("context_trimmed") == [{"depth": 0, "elidedResults": 1}]


@pytest.mark.parametrize("reply", [
    error_reply(400, "invalid_request_error", "prompt is too long: 215000 tokens > 200000 maximum"),
    error_reply(413, "request_too_large", "Request exceeds the maximum allowed number of bytes."),
], ids=["400-prompt-too-long", "413"])
def test_a_first_request_too_large_fails_clearly_without_retrying(fake_anthropic: FakeAnthropic, snapshot: Path,
                                                                  reply: FakeReply) -> None:
    fake_anthropic.push(reply, submit())
    with pytest.raises(LlmContextTooLong, match="too large for the model") as caught:
        analyse(snapshot, Recorder())
    assert "does not fit" in caught.value.message and "--model-id" in caught.value.hint
    assert len(fake_anthropic.requests) == 1


@pytest.mark.parametrize(("reply", "expected", "hint"), [
    (error_reply(403, "permission_error", "no access to this model"),
     "refused this API key access (403): permission_error: no access to this model", "permissions"),
    (error_reply(404, "not_found_error", "model: claude-sonnet-5-5"),
     "does not know this model or path: not_found_error: model: claude-sonnet-5-5", "--model-id"),
    (error_reply(400, "invalid_request_error", "tools.0: bad schema"),
     "failed (400): invalid_request_error: tools.0: bad schema", None),
], ids=["403", "404", "400"])
def test_client_errors_say_what_the_api_said(fake_anthropic: FakeAnthropic, snapshot: Path, reply: FakeReply,
                                             expected: str, hint: str | None) -> None:
    fake_anthropic.push(reply)
    with pytest.raises(LlmError) as caught:
        analyse(snapshot, Recorder())
    assert expected in caught.value.message and "Error code" not in caught.value.message
    assert (hint is None and caught.value.hint is None) or hint in caught.value.hint
    assert len(fake_anthropic.requests) == 1


def test_rate_limit_after_every_retry_names_the_limit(fake_anthropic: FakeAnthropic, snapshot: Path) -> None:
    fake_anthropic.push(*[error_reply(429, "rate_limit_error", "slow down")] * 3)
    with pytest.raises(LlmError, match=r"rate-limited after 3 attempts \(429\): rate_limit_error: slow down") as caught:
        analyse(snapshot, Recorder())
    assert "HALO_LLM_MAX_RETRIES" in caught.value.hint


def test_retry_after_is_waited_for(fake_anthropic: FakeAnthropic, snapshot: Path, fake_clock: FakeClock) -> None:
    fake_anthropic.push(error_reply(529, "overloaded_error", headers={"retry-after": "1"}), submit())
    recorder = Recorder()
    analyse(snapshot, recorder)
    assert fake_clock.slept >= 1.0
    assert recorder.of("retry")[0]["delaySeconds"] >= 1.0


def test_the_servers_x_should_retry_header_wins(fake_anthropic: FakeAnthropic, snapshot: Path) -> None:
    fake_anthropic.push(error_reply(500, "api_error", headers={"x-should-retry": "false"}))
    with pytest.raises(LlmError, match=r"failed \(500\)"):
        analyse(snapshot, Recorder())
    fake_anthropic.push(error_reply(400, "invalid_request_error", headers={"x-should-retry": "true"}), submit())
    assert len(analyse(snapshot, Recorder()).notes) == 1
    assert len(fake_anthropic.requests) == 3


def test_an_error_that_echoes_a_secret_is_redacted(fake_anthropic: FakeAnthropic, snapshot: Path) -> None:
    fake_anthropic.push(error_reply(400, "invalid_request_error", f"bad header x-api-key: {SECRETS['anthropic key']}"))
    recorder = Recorder()
    with pytest.raises(LlmError) as caught:
        analyse(snapshot, recorder)
    assert SECRETS["anthropic key"] not in caught.value.message and "[REDACTED]" in caught.value.message
    assert SECRETS["anthropic key"] not in json.dumps(recorder.events)


def test_otel_header_lists_and_planted_secrets_never_reach_the_server(fake_anthropic: FakeAnthropic,
                                                                      tmp_path: Path) -> None:
    headers = {"http.request.header.authorization": ["Basic dXNlcjpwYXNz"],
               "http.request.header.x-api-key": ["k3yV4lue99"], "http.request.header.cookie": ["sid=c00kieVal"]}
    planted = write_spans_parquet(tmp_path / "planted.parquet", [
        *SPANS,
        {"trace_id": TRACE, "span_id": "feed00000000beef", "parent_span_id": ROOT_SPAN, "name": "http GET",
         "span_type": "tool", "start_ns": T0 + 3_500_000_000, "status_code": "error", "attributes": json.dumps(headers),
         "tool_arguments": json.dumps({"password": "Pa55word!"}), "error_message": "login failed: password=Pa55word!"},
    ])
    fake_anthropic.push(
        tool_use_message([("get_span", {"span_id": "feed00000000beef"}), ("search_spans", {"text": "http"}),
                          ("run_sql", {"sql": "SELECT attributes, error_message, tool_arguments FROM spans"}),
                          ("run_sql", {"sql": "SELECT CAST(error_message AS INTEGER) FROM spans"}),
                          ("view_trace", {"trace_id": TRACE})]),
        submit(),
    )
    analyse(planted, Recorder())
    sent = fake_anthropic.all_sent_text()
    for secret in ("dXNlcjpwYXNz", "k3yV4lue99", "c00kieVal", "Pa55word"):
        assert secret not in sent, secret
    assert "http.request.header.x-api-key" in sent


def test_the_sandbox_process_starts_at_the_first_tool_call_not_before(
        fake_anthropic: FakeAnthropic, snapshot: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pass that fails (or ends) before any tool call starts no sandbox process and copies no spans; one
    that queries starts one, at its first call."""
    started: list[object] = []
    process_class = sandbox_module.SandboxProcess

    def counting_process() -> object:
        started.append(process_class())
        return started[-1]

    monkeypatch.setattr(sandbox_module, "SandboxProcess", counting_process)
    fake_anthropic.push(error_reply(403, "permission_error", "no access"))
    with pytest.raises(LlmError):
        analyse(snapshot, Recorder())
    assert started == []

    fake_anthropic.push(tool_use_message([("run_sql", {"sql": "SELECT count(*) FROM spans"})]), submit())
    analyse(snapshot, Recorder())
    assert len(started) == 1
