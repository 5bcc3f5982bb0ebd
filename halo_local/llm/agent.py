"""The agentic LLM pass: start from the heuristic findings, explore the snapshot, submit ranked notes.

Prompting (`prompting`), request blocks (`messages`) and the submission's parsing and id check
(`submission`) live beside it. One `_Session` holds what the main agent and its sub-agents share: the client, the sandbox, token
accounting and the count of invented ids. Each agent is a loop of Messages API turns; tools run
between turns. The stable prefix (tools, system prompt, the findings message) carries
`cache_control`, and a fourth breakpoint moves to the newest message so each turn re-reads the
conversation from the cache. Whatever the model cites is checked against the snapshot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from halo_local.errors import UsageError
from halo_local.llm.client import CancelCheck, EventSink, LlmContextTooLong, LlmError, MessagesClient
from halo_local.llm.messages import EPHEMERAL, append, assistant_blocks, tool_result, usage_of, with_moving_breakpoint
from halo_local.llm.models import CallUsage, cost_usd, resolve_model_id
from halo_local.llm.prompting import (
    FindingLike,
    capped,
    compact_json,
    finding_json,
    findings_for_prompt,
    json_safe,
    render,
    schema_variables,
)
from halo_local.llm.submission import IssueNote, Outcome, parse_submission, verified
from halo_local.llm.tools import (
    DELEGATE,
    DELEGATE_TOOL,
    EXPLORATION_TOOLS,
    SUBMIT,
    SUBMIT_TOOL,
    SpanTools,
    short_arguments,
)
from halo_local.redact import redact_value
from halo_local.sandbox import SpanSandbox

MAX_OUTPUT_TOKENS = 8192
MAX_EMPTY_REPLIES = 3
# The agent loop's own ceilings; `RunOptions` (halo_local/runs/options.py) bounds a run's options by them.
MAX_TURNS_CEILING = 100
MAX_SUBAGENT_DEPTH_CEILING = 5
ELIDED_RESULT = ("(output elided to keep the conversation within the model's context window; "
                 "run the tool again if needed)")


@dataclass(frozen=True)
class LlmResult:
    """What the LLM pass produced and what it cost. Tokens are summed over every call of every agent;
    `input_tokens` includes cache reads and writes; `turns` counts Messages API calls."""

    summary: str
    notes: list[IssueNote]
    model_id: str
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_usd: float | None
    turns: int
    invented_ids_removed: int


class _NoAnswer(LlmError):
    """An agent used all its turns without an answer."""


class _Refused(LlmError):
    """The model declined to go on (stop_reason `refusal`): asking again gets the same answer."""


@dataclass
class _Session:
    client: MessagesClient
    sandbox: SpanSandbox
    model_id: str
    max_turns: int
    max_depth: int
    on_event: EventSink
    findings: dict[str, dict[str, Any]]
    context_json: str
    calls: list[CallUsage] = field(default_factory=list)
    invented_ids_removed: int = 0

    def result(self, outcome: Outcome) -> LlmResult:
        return LlmResult(
            summary=outcome.summary,
            notes=outcome.notes,
            model_id=self.model_id,
            input_tokens=sum(call.input_tokens for call in self.calls),
            output_tokens=sum(call.output_tokens for call in self.calls),
            cache_read_tokens=sum(call.cache_read_tokens for call in self.calls),
            cache_write_tokens=sum(call.cache_write_tokens for call in self.calls),
            cost_usd=cost_usd(self.model_id, self.calls),
            turns=len(self.calls),
            invented_ids_removed=self.invented_ids_removed,
        )


def _verified(session: _Session, outcome: Outcome) -> Outcome:
    """The outcome with invented ids removed, counted on the session."""
    checked, removed = verified(session.sandbox, outcome)
    session.invented_ids_removed += removed
    return checked


def run_analysis(*, snapshot: Path, findings: Sequence[FindingLike], context: Mapping[str, Any], prompt: str,
                 model_id: str, max_turns: int, max_subagent_depth: int,
                 on_event: Callable[[str, dict[str, Any]], None],
                 should_cancel: Callable[[], bool]) -> LlmResult:
    """Explain and rank the findings with tools over the snapshot; LlmError on failure, LlmCancelled on cancel."""
    model_id = resolve_model_id(model_id)
    _check_range("max_turns", max_turns, 1, MAX_TURNS_CEILING)
    _check_range("max_subagent_depth", max_subagent_depth, 1, MAX_SUBAGENT_DEPTH_CEILING)
    shown, omitted = findings_for_prompt(findings)
    with _open_session(snapshot, model_id, max_turns, max_subagent_depth, findings, context, on_event,
                       should_cancel) as session:
        first = render(
            "llm_task.md.j2",
            context_json=session.context_json,
            findings_json=compact_json(shown),
            finding_count=len(findings),
            omitted=omitted,
            prompt=str(prompt or "").strip(),
        )
        outcome = _run_agent(session, depth=0, finding_key=None,
                             system_template="llm_system.md.j2", first_message=first)
        return session.result(outcome)


def answer_followup(*, snapshot: Path, report_markdown: str, findings: Sequence[FindingLike],
                    history: Sequence[tuple[str, str]], question: str, model_id: str, max_turns: int,
                    on_event: Callable[[str, dict[str, Any]], None],
                    should_cancel: Callable[[], bool]) -> LlmResult:
    """Answer a question about a report, with the same tools; the result's summary is the answer.

    `history` is the conversation after the report as (role, text), roles "user" / "assistant"
    (others are skipped); a leading copy of the report and a trailing copy of the question are dropped.
    """
    model_id = resolve_model_id(model_id)
    _check_range("max_turns", max_turns, 1, MAX_TURNS_CEILING)
    if not str(question or "").strip():
        raise UsageError("the question is empty")
    shown, omitted = findings_for_prompt(findings)
    with _open_session(snapshot, model_id, max_turns, 0, findings, {}, on_event, should_cancel) as session:
        opening = render("llm_followup_context.md.j2", findings_json=compact_json(shown), finding_count=len(findings),
                         omitted=omitted)
        messages: list[dict[str, Any]] = [
            {"role": "user", "content": [{"type": "text", "text": opening}]},
            {"role": "assistant", "content": [{"type": "text", "text": report_markdown or "(empty report)",
                                               "cache_control": EPHEMERAL}]},
        ]
        turns = [(role, text) for role, text in history if role in ("user", "assistant") and text and text.strip()]
        if turns and turns[0] == ("assistant", report_markdown):
            turns = turns[1:]
        if turns and turns[-1] == ("user", question):
            turns = turns[:-1]
        for role, text in turns:
            append(messages, role, [{"type": "text", "text": text}])
        append(messages, "user", [{"type": "text", "text": question}])
        system = render("llm_followup.md.j2", max_turns=max_turns, **schema_variables())
        answer = _converse(session, depth=0, finding_key=None, system=system, messages=messages,
                           tools=list(EXPLORATION_TOOLS), expect_submission=False)
        return session.result(answer)


@contextmanager
def _open_session(snapshot: Path, model_id: str, max_turns: int, max_depth: int, findings: Sequence[FindingLike],
                  context: Mapping[str, Any], on_event: EventSink, should_cancel: CancelCheck) -> Iterator[_Session]:
    """The client and sandbox of one LLM pass, closed on exit; an LlmError is reported as `llm_error` first."""
    try:
        client = MessagesClient(on_event=on_event, should_cancel=should_cancel)
        try:
            sandbox = SpanSandbox.from_parquet(Path(snapshot), lazy=True)  # started by the first tool call
        except BaseException:
            client.close()
            raise
        try:
            yield _Session(
                client=client, sandbox=sandbox, model_id=model_id, max_turns=max_turns, max_depth=max_depth,
                on_event=on_event, findings={finding.key: finding_json(finding) for finding in findings},
                context_json=compact_json(redact_value(capped(json_safe(dict(context))))),
            )
        finally:
            client.close()
            sandbox.close()
    except LlmError as error:
        on_event("llm_error", {"message": error.message})
        raise


def _run_agent(session: _Session, *, depth: int, finding_key: str | None, system_template: str,
               first_message: str) -> Outcome:
    can_delegate = depth < session.max_depth
    tools = [*EXPLORATION_TOOLS, *([DELEGATE_TOOL] if can_delegate else []), SUBMIT_TOOL]
    system = render(system_template, max_turns=session.max_turns, can_delegate=can_delegate, **schema_variables())
    messages = [{"role": "user", "content": [{"type": "text", "text": first_message, "cache_control": EPHEMERAL}]}]
    return _converse(session, depth=depth, finding_key=finding_key, system=system, messages=messages,
                     tools=tools, expect_submission=True)


def _converse(session: _Session, *, depth: int, finding_key: str | None, system: str,
              messages: list[dict[str, Any]], tools: list[dict[str, Any]], expect_submission: bool) -> Outcome:
    """Turns until the model submits (or, for follow-ups, answers in text) or runs out of turns."""
    tool_params = [dict(tool) for tool in tools]
    tool_params[-1] = {**tool_params[-1], "cache_control": EPHEMERAL}
    offered = {tool["name"] for tool in tools}
    last_text = ""
    empty_replies = 0
    for turn in range(1, session.max_turns + 1):
        final_turn = turn == session.max_turns
        if not final_turn:
            tool_choice: dict[str, Any] = {"type": "auto"}
        elif expect_submission:
            tool_choice = {"type": "tool", "name": SUBMIT}
        else:
            tool_choice = {"type": "none"}
        message = _create_fitting(session, depth, messages, {
            "model": session.model_id,
            "max_tokens": MAX_OUTPUT_TOKENS,
            "system": [{"type": "text", "text": system, "cache_control": EPHEMERAL}],
            "tools": tool_params,
            "tool_choice": tool_choice,
        })
        usage = usage_of(message)
        session.calls.append(usage)
        session.on_event("llm_turn", {
            "depth": depth, "turn": turn, "findingKey": finding_key, "stopReason": message.stop_reason,
            "inputTokens": usage.input_tokens, "outputTokens": usage.output_tokens,
            "cacheReadTokens": usage.cache_read_tokens, "cacheWriteTokens": usage.cache_write_tokens,
        })
        if message.stop_reason == "refusal":
            raise _Refused("the model declined to continue (stop_reason refusal)",
                           hint="reword the prompt or question, or try another --model-id")
        blocks = assistant_blocks(message)
        empty_replies = 0 if blocks else empty_replies + 1
        if empty_replies >= MAX_EMPTY_REPLIES:
            raise LlmError(f"the model sent {empty_replies} empty replies in a row",
                           hint="check ANTHROPIC_BASE_URL points at an Anthropic-compatible API, "
                                "or try another --model-id")
        text = "\n\n".join(block["text"] for block in blocks if block["type"] == "text").strip()
        last_text = text or last_text
        uses = [block for block in blocks if block["type"] == "tool_use"]
        if not uses:
            if text and message.stop_reason != "max_tokens":
                return _verified(session, Outcome(summary=text, notes=[]))
            if blocks:
                append(messages, "assistant", blocks)
            nudge = ("Your reply was cut off at the output limit. Be briefer. " if message.stop_reason == "max_tokens"
                     else "")
            nudge += "Call submit_analysis now." if expect_submission else "Answer the question now."
            append(messages, "user", [{"type": "text", "text": nudge}])
            continue
        append(messages, "assistant", blocks)
        results = []
        for use in uses:
            session.client.check_cancel()
            if use["name"] == SUBMIT and SUBMIT in offered:
                outcome, problems = parse_submission(use["input"], set(session.findings))
                if outcome is not None and (not problems or final_turn):
                    return _verified(session, outcome)
                results.append(tool_result(use["id"], "The submission was not accepted: " + "; ".join(problems)
                                            + ". Fix these and call submit_analysis again.", is_error=True))
            elif use["name"] == DELEGATE and DELEGATE in offered:
                results.append(_delegate(session, use, depth))
            else:
                results.append(_explore(session, use, depth))
        append(messages, "user", results)
    if last_text:
        return _verified(session, Outcome(summary=last_text, notes=[]))
    raise _NoAnswer(f"the model gave no answer within max_turns={session.max_turns}",
                    hint="raise --max-turns, or narrow the prompt")


def _create_fitting(session: _Session, depth: int, messages: list[dict[str, Any]], params: Mapping[str, Any]) -> Any:
    """One call; when the conversation outgrew the context window, older tool output is elided and it is
    sent again, so a long exploration ends in an answer rather than losing every turn so far."""
    while True:
        try:
            return session.client.create({**params, "messages": with_moving_breakpoint(messages)})
        except LlmContextTooLong as error:
            elided = _elide_tool_results(messages)
            if not elided:
                raise LlmContextTooLong(error.message + "; even without tool output the conversation does not fit",
                                        hint="shorten the prompt or question, or use a model with a larger context "
                                             "window (--model-id)") from error
            session.on_event("context_trimmed", {"depth": depth, "elidedResults": elided})


def _elide_tool_results(messages: list[dict[str, Any]]) -> int:
    """Replace the older half of the tool results not yet elided (at least one) with a note; how many."""
    places = [(index, position) for index, item in enumerate(messages)
              for position, block in enumerate(item["content"])
              if block.get("type") == "tool_result" and block.get("content") != ELIDED_RESULT]
    chosen = places[:max(1, len(places) // 2)] if places else []
    for index, position in chosen:
        content = list(messages[index]["content"])
        content[position] = {**content[position], "content": ELIDED_RESULT}
        messages[index] = {**messages[index], "content": content}
    return len(chosen)


def _explore(session: _Session, use: Mapping[str, Any], depth: int) -> dict[str, Any]:
    output = SpanTools(session.sandbox).run(use["name"], use["input"])
    session.on_event("tool_call", {
        "depth": depth, "tool": use["name"], "args": short_arguments(use["input"]), "rows": output.rows,
        "chars": len(output.text), "error": output.is_error, "redactions": output.redactions,
    })
    return tool_result(use["id"], output.text, is_error=output.is_error)


def _delegate(session: _Session, use: Mapping[str, Any], depth: int) -> dict[str, Any]:
    arguments = use["input"]
    key = arguments.get("finding_key")
    question = arguments.get("question")
    if key not in session.findings or not isinstance(question, str) or not question.strip():
        known = ", ".join(list(session.findings)[:20]) or "(none)"
        return tool_result(use["id"], f"delegate_finding needs a known finding_key (one of: {known}) and a question",
                            is_error=True)
    session.on_event("subagent", {"findingKey": key, "depth": depth + 1})
    session.on_event("tool_call", {"depth": depth, "tool": DELEGATE, "args": short_arguments(arguments),
                                   "rows": None, "chars": 0, "error": False, "redactions": 0})
    first = render("llm_subagent_task.md.j2", context_json=session.context_json,
                   finding_json=compact_json(session.findings[key]), question=question.strip())
    try:
        outcome = _run_agent(session, depth=depth + 1, finding_key=key, system_template="llm_subagent.md.j2",
                             first_message=first)
    except (_NoAnswer, _Refused, LlmContextTooLong) as error:
        return tool_result(use["id"], f"The sub-agent gave no answer: {error.message}", is_error=True)
    report = {"summary": outcome.summary, "notes": [note.to_json() for note in outcome.notes]}
    return tool_result(use["id"], compact_json(report))


def _check_range(name: str, value: int, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise UsageError(f"{name} must be a whole number from {low} to {high}; got {value!r}")



