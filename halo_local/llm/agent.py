"""The agentic LLM pass: start from the heuristic findings, explore the snapshot, submit ranked notes.

One `_Session` holds what the main agent and its sub-agents share: the client, the sandbox, token
accounting and the count of invented ids. Each agent is a loop of Messages API turns; tools run
between turns. The stable prefix (tools, system prompt, the findings message) carries
`cache_control`, and a fourth breakpoint moves to the newest message so each turn re-reads the
conversation from the cache. Whatever the model cites is checked against the snapshot.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from halo_local.errors import UsageError
from halo_local.llm.client import CancelCheck, EventSink, LlmContextTooLong, LlmError, MessagesClient
from halo_local.llm.models import CallUsage, cost_usd, resolve_model_id
from halo_local.llm.redact import redact_value
from halo_local.llm.tools import (
    DELEGATE,
    DELEGATE_TOOL,
    EXPLORATION_TOOLS,
    RESULT_MAX_CHARS,
    SQL_MAX_ROWS,
    SUBMIT,
    SUBMIT_TOOL,
    SpanTools,
    short_arguments,
)
from halo_local.resources import resource_dir, sql_text
from halo_local.sandbox import SpanSandbox

MAX_OUTPUT_TOKENS = 8192
MAX_FINDINGS_SHOWN = 40
MAX_FINDING_STRING = 1500
MAX_NOTES = 20
MAX_SUMMARY_CHARS = 20000
MAX_EMPTY_REPLIES = 3
ELIDED_RESULT = ("(output elided to keep the conversation within the model's context window; "
                 "run the tool again if needed)")
UNVERIFIED_ID = "[unverified id]"
_EPHEMERAL = {"type": "ephemeral"}
_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{24}|[0-9a-fA-F]{16})(?![0-9A-Za-z])")


class FindingLike(Protocol):
    """What the LLM pass needs of `halo_local.heuristics.Finding`."""

    @property
    def key(self) -> str: ...

    def to_json(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class IssueNote:
    """The LLM's explanation of one finding (or of a new issue it found)."""

    finding_key: str | None
    title: str
    rank: int
    likely_cause: str
    fix: str
    trace_ids: tuple[str, ...]
    span_ids: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"findingKey": self.finding_key, "title": self.title, "rank": self.rank,
                "likelyCause": self.likely_cause, "fix": self.fix,
                "traceIds": list(self.trace_ids), "spanIds": list(self.span_ids)}


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


@dataclass
class _Outcome:
    summary: str
    notes: list[IssueNote]


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

    def result(self, outcome: _Outcome) -> LlmResult:
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


def run_analysis(*, snapshot: Path, findings: Sequence[FindingLike], context: Mapping[str, Any], prompt: str,
                 model_id: str, max_turns: int, max_subagent_depth: int,
                 on_event: Callable[[str, dict[str, Any]], None],
                 should_cancel: Callable[[], bool]) -> LlmResult:
    """Explain and rank the findings with tools over the snapshot; LlmError on failure, LlmCancelled on cancel."""
    model_id = resolve_model_id(model_id)
    _check_range("max_turns", max_turns, 1, 100)
    _check_range("max_subagent_depth", max_subagent_depth, 1, 5)
    shown, omitted = _findings_for_prompt(findings)
    with _open_session(snapshot, model_id, max_turns, max_subagent_depth, findings, context, on_event,
                       should_cancel) as session:
        first = render(
            "llm_task.md.j2",
            context_json=session.context_json,
            findings_json=_json(shown),
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
    _check_range("max_turns", max_turns, 1, 100)
    if not str(question or "").strip():
        raise UsageError("the question is empty")
    shown, omitted = _findings_for_prompt(findings)
    with _open_session(snapshot, model_id, max_turns, 0, findings, {}, on_event, should_cancel) as session:
        opening = render("llm_followup_context.md.j2", findings_json=_json(shown), finding_count=len(findings),
                         omitted=omitted)
        messages: list[dict[str, Any]] = [
            {"role": "user", "content": [{"type": "text", "text": opening}]},
            {"role": "assistant", "content": [{"type": "text", "text": report_markdown or "(empty report)",
                                               "cache_control": _EPHEMERAL}]},
        ]
        turns = [(role, text) for role, text in history if role in ("user", "assistant") and text and text.strip()]
        if turns and turns[0] == ("assistant", report_markdown):
            turns = turns[1:]
        if turns and turns[-1] == ("user", question):
            turns = turns[:-1]
        for role, text in turns:
            _append(messages, role, [{"type": "text", "text": text}])
        _append(messages, "user", [{"type": "text", "text": question}])
        system = render("llm_followup.md.j2", max_turns=max_turns, **_schema_variables())
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
            sandbox = SpanSandbox.from_parquet(Path(snapshot))
        except BaseException:
            client.close()
            raise
        try:
            yield _Session(
                client=client, sandbox=sandbox, model_id=model_id, max_turns=max_turns, max_depth=max_depth,
                on_event=on_event, findings={finding.key: _finding_json(finding) for finding in findings},
                context_json=_json(redact_value(_capped(_json_safe(dict(context))))),
            )
        finally:
            client.close()
            sandbox.close()
    except LlmError as error:
        on_event("llm_error", {"message": error.message})
        raise


def _run_agent(session: _Session, *, depth: int, finding_key: str | None, system_template: str,
               first_message: str) -> _Outcome:
    can_delegate = depth < session.max_depth
    tools = [*EXPLORATION_TOOLS, *([DELEGATE_TOOL] if can_delegate else []), SUBMIT_TOOL]
    system = render(system_template, max_turns=session.max_turns, can_delegate=can_delegate, **_schema_variables())
    messages = [{"role": "user", "content": [{"type": "text", "text": first_message, "cache_control": _EPHEMERAL}]}]
    return _converse(session, depth=depth, finding_key=finding_key, system=system, messages=messages,
                     tools=tools, expect_submission=True)


def _converse(session: _Session, *, depth: int, finding_key: str | None, system: str,
              messages: list[dict[str, Any]], tools: list[dict[str, Any]], expect_submission: bool) -> _Outcome:
    """Turns until the model submits (or, for follow-ups, answers in text) or runs out of turns."""
    tool_params = [dict(tool) for tool in tools]
    tool_params[-1] = {**tool_params[-1], "cache_control": _EPHEMERAL}
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
            "system": [{"type": "text", "text": system, "cache_control": _EPHEMERAL}],
            "tools": tool_params,
            "tool_choice": tool_choice,
        })
        usage = _usage_of(message)
        session.calls.append(usage)
        session.on_event("llm_turn", {
            "depth": depth, "turn": turn, "findingKey": finding_key, "stopReason": message.stop_reason,
            "inputTokens": usage.input_tokens, "outputTokens": usage.output_tokens,
            "cacheReadTokens": usage.cache_read_tokens, "cacheWriteTokens": usage.cache_write_tokens,
        })
        if message.stop_reason == "refusal":
            raise _Refused("the model declined to continue (stop_reason refusal)",
                           hint="reword the prompt or question, or try another --model-id")
        blocks = _assistant_blocks(message)
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
                return _verified(session, _Outcome(summary=text, notes=[]))
            if blocks:
                _append(messages, "assistant", blocks)
            nudge = ("Your reply was cut off at the output limit. Be briefer. " if message.stop_reason == "max_tokens"
                     else "")
            nudge += "Call submit_analysis now." if expect_submission else "Answer the question now."
            _append(messages, "user", [{"type": "text", "text": nudge}])
            continue
        _append(messages, "assistant", blocks)
        results = []
        for use in uses:
            session.client.check_cancel()
            if use["name"] == SUBMIT and SUBMIT in offered:
                outcome, problems = parse_submission(use["input"], set(session.findings))
                if outcome is not None and (not problems or final_turn):
                    return _verified(session, outcome)
                results.append(_tool_result(use["id"], "The submission was not accepted: " + "; ".join(problems)
                                            + ". Fix these and call submit_analysis again.", is_error=True))
            elif use["name"] == DELEGATE and DELEGATE in offered:
                results.append(_delegate(session, use, depth))
            else:
                results.append(_explore(session, use, depth))
        _append(messages, "user", results)
    if last_text:
        return _verified(session, _Outcome(summary=last_text, notes=[]))
    raise _NoAnswer(f"the model gave no answer within max_turns={session.max_turns}",
                    hint="raise --max-turns, or narrow the prompt")


def _create_fitting(session: _Session, depth: int, messages: list[dict[str, Any]], params: Mapping[str, Any]) -> Any:
    """One call; when the conversation outgrew the context window, older tool output is elided and it is
    sent again, so a long exploration ends in an answer rather than losing every turn so far."""
    while True:
        try:
            return session.client.create({**params, "messages": _with_moving_breakpoint(messages)})
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
    return _tool_result(use["id"], output.text, is_error=output.is_error)


def _delegate(session: _Session, use: Mapping[str, Any], depth: int) -> dict[str, Any]:
    arguments = use["input"]
    key = arguments.get("finding_key")
    question = arguments.get("question")
    if key not in session.findings or not isinstance(question, str) or not question.strip():
        known = ", ".join(list(session.findings)[:20]) or "(none)"
        return _tool_result(use["id"], f"delegate_finding needs a known finding_key (one of: {known}) and a question",
                            is_error=True)
    session.on_event("subagent", {"findingKey": key, "depth": depth + 1})
    session.on_event("tool_call", {"depth": depth, "tool": DELEGATE, "args": short_arguments(arguments),
                                   "rows": None, "chars": 0, "error": False, "redactions": 0})
    first = render("llm_subagent_task.md.j2", context_json=session.context_json,
                   finding_json=_json(session.findings[key]), question=question.strip())
    try:
        outcome = _run_agent(session, depth=depth + 1, finding_key=key, system_template="llm_subagent.md.j2",
                             first_message=first)
    except (_NoAnswer, _Refused, LlmContextTooLong) as error:
        return _tool_result(use["id"], f"The sub-agent gave no answer: {error.message}", is_error=True)
    report = {"summary": outcome.summary, "notes": [note.to_json() for note in outcome.notes]}
    return _tool_result(use["id"], _json(report))


def parse_submission(raw: Any, finding_keys: set[str]) -> tuple[_Outcome | None, list[str]]:
    """The submission as an outcome (invalid notes dropped) and the problems found, for the model to fix."""
    if not isinstance(raw, Mapping):
        return None, ["the input must be an object with summary and notes"]
    problems: list[str] = []
    summary = raw.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        problems.append("summary must be a non-empty string")
        summary = None
    raw_notes = raw.get("notes", [])
    if not isinstance(raw_notes, list):
        problems.append("notes must be an array")
        raw_notes = []
    if len(raw_notes) > MAX_NOTES:
        problems.append(f"at most {MAX_NOTES} notes")
        raw_notes = raw_notes[:MAX_NOTES]
    ranked: list[tuple[int, int, IssueNote]] = []
    for index, item in enumerate(raw_notes, start=1):
        note, note_problems = _parse_note(item, finding_keys)
        problems.extend(f"note {index}: {problem}" for problem in note_problems)
        if note is not None:
            ranked.append((note.rank, index, note))
    ranked.sort(key=lambda entry: entry[:2])
    notes = [_replace_rank(note, position) for position, (_, _, note) in enumerate(ranked, start=1)]
    if summary is None:
        if not notes:
            return None, problems
        summary = "; ".join(note.title for note in notes)
    return _Outcome(summary=summary.strip(), notes=notes), problems


def _parse_note(item: Any, finding_keys: set[str]) -> tuple[IssueNote | None, list[str]]:
    if not isinstance(item, Mapping):
        return None, ["must be an object"]
    problems = []
    title = item.get("title")
    if not isinstance(title, str) or not title.strip():
        return None, ["title must be a non-empty string"]
    rank = item.get("rank")
    if isinstance(rank, str) and rank.strip().isdigit():
        rank = int(rank.strip())
    if isinstance(rank, bool) or not isinstance(rank, int) or rank < 1:
        problems.append("rank must be a whole number from 1")
        rank = 10_000
    key = item.get("finding_key") or None
    if key is not None and key not in finding_keys:
        problems.append(f"finding_key {key!r} is not a finding's key (use null for a new issue)")
        key = None
    texts = {}
    for name in ("likely_cause", "fix"):
        value = item.get(name)
        if value is not None and not isinstance(value, str):
            problems.append(f"{name} must be a string")
            value = None
        texts[name] = (value or "").strip()[:4000]
    id_lists = {}
    for name in ("trace_ids", "span_ids"):
        value = item.get(name) or []
        if not isinstance(value, list) or not all(isinstance(entry, str) for entry in value):
            problems.append(f"{name} must be an array of strings")
            value = []
        id_lists[name] = tuple(dict.fromkeys(entry.strip().lower() for entry in value if entry.strip()))[:20]
    note = IssueNote(finding_key=key, title=title.strip()[:300], rank=rank, likely_cause=texts["likely_cause"],
                     fix=texts["fix"], trace_ids=id_lists["trace_ids"], span_ids=id_lists["span_ids"])
    return note, problems


def _replace_rank(note: IssueNote, rank: int) -> IssueNote:
    return IssueNote(note.finding_key, note.title, rank, note.likely_cause, note.fix, note.trace_ids, note.span_ids)


def _verified(session: _Session, outcome: _Outcome) -> _Outcome:
    """The outcome with every id that names nothing in the snapshot removed (and counted)."""
    texts = [outcome.summary] + [part for note in outcome.notes for part in (note.title, note.likely_cause, note.fix)]
    cited = {match.lower() for text in texts for match in _ID_IN_TEXT.findall(text) if _looks_like_id(match)}
    for note in outcome.notes:
        cited.update(note.trace_ids)
        cited.update(note.span_ids)
    traces, spans = session.sandbox.known_ids(sorted(cited))
    removed = 0

    def scrub(text: str) -> str:
        def replace(match: re.Match[str]) -> str:
            nonlocal removed
            token = match.group(0)
            if not _looks_like_id(token) or token.lower() in traces or token.lower() in spans:
                return token
            removed += 1
            return UNVERIFIED_ID

        return _ID_IN_TEXT.sub(replace, text)

    notes = []
    for note in outcome.notes:
        listed = note.trace_ids + note.span_ids
        trace_ids = tuple(dict.fromkeys(item for item in listed if item in traces))
        span_ids = tuple(dict.fromkeys(item for item in listed if item in spans and item not in traces))
        removed += sum(1 for item in listed if item not in traces and item not in spans)
        notes.append(IssueNote(note.finding_key, scrub(note.title), note.rank, scrub(note.likely_cause),
                               scrub(note.fix), trace_ids, span_ids))
    summary = scrub(outcome.summary[:MAX_SUMMARY_CHARS])
    session.invented_ids_removed += removed
    return _Outcome(summary=summary, notes=notes)


def _looks_like_id(token: str) -> bool:
    """Hex of an id's length with both a digit and a letter (so a 16-digit number is not an id)."""
    return any(char.isdigit() for char in token) and any(char.isalpha() for char in token)


def _tool_result(tool_use_id: str, text: str, *, is_error: bool = False) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": tool_use_id, "content": text or "(no output)"}
    if is_error:
        block["is_error"] = True
    return block


def _assistant_blocks(message: Any) -> list[dict[str, Any]]:
    """The reply's text and tool_use blocks as request params (other block kinds are not replayed)."""
    blocks = []
    for block in message.content:
        if block.type == "text" and block.text:
            blocks.append({"type": "text", "text": block.text})
        elif block.type == "tool_use":
            blocks.append({"type": "tool_use", "id": block.id, "name": block.name, "input": block.input})
    return blocks


def _append(messages: list[dict[str, Any]], role: str, blocks: list[dict[str, Any]]) -> None:
    """Add blocks as a message, merging into the last one when it has the same role (the API alternates)."""
    if messages and messages[-1]["role"] == role:
        messages[-1] = {"role": role, "content": [*messages[-1]["content"], *blocks]}
    else:
        messages.append({"role": role, "content": list(blocks)})


def _with_moving_breakpoint(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A copy with cache_control on the newest block too, so the next turn reads all of this from the cache."""
    if len(messages) < 2:
        return messages
    last = messages[-1]
    content = [*last["content"][:-1], {**last["content"][-1], "cache_control": _EPHEMERAL}]
    return [*messages[:-1], {"role": last["role"], "content": content}]


def _usage_of(message: Any) -> CallUsage:
    usage = message.usage
    cache_read = usage.cache_read_input_tokens or 0
    cache_write = usage.cache_creation_input_tokens or 0
    return CallUsage(input_tokens=usage.input_tokens + cache_read + cache_write, output_tokens=usage.output_tokens,
                     cache_read_tokens=cache_read, cache_write_tokens=cache_write)


def _finding_json(finding: FindingLike) -> dict[str, Any]:
    """The finding as the model sees it: its key first, strings capped, secrets redacted."""
    redacted: dict[str, Any] = redact_value(_capped({"key": finding.key, **_json_safe(finding.to_json())}))
    return redacted


def _findings_for_prompt(findings: Sequence[FindingLike]) -> tuple[list[dict[str, Any]], int]:
    shown = [_finding_json(finding) for finding in findings[:MAX_FINDINGS_SHOWN]]
    return shown, max(0, len(findings) - MAX_FINDINGS_SHOWN)


def _capped(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_FINDING_STRING:
        return value[:MAX_FINDING_STRING] + f"…[+{len(value) - MAX_FINDING_STRING} chars]"
    if isinstance(value, dict):
        return {key: _capped(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_capped(item) for item in value]
    return value


def _json_safe(value: Any) -> Any:
    """JSON-safe: whatever json cannot encode (datetimes, decimals, paths) becomes its text."""
    return json.loads(json.dumps(value, default=str))


def _json(value: Any) -> str:
    """Compact JSON, one item per line for lists (readable for the model, cheap in tokens)."""
    if isinstance(value, list) and value:
        return "[\n" + ",\n".join(_json(item) for item in value) + "\n]"
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _check_range(name: str, value: int, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise UsageError(f"{name} must be a whole number from {low} to {high}; got {value!r}")


_ENVIRONMENT: Environment | None = None


def render(template: str, **variables: Any) -> str:
    """Render a prompt template from `prompts/` (undefined variables are errors)."""
    global _ENVIRONMENT
    if _ENVIRONMENT is None:
        _ENVIRONMENT = Environment(loader=FileSystemLoader(str(resource_dir("prompts"))), undefined=StrictUndefined,
                                   autoescape=False, keep_trailing_newline=False)
    return _ENVIRONMENT.get_template(template).render(**variables).strip()


def _schema_variables() -> dict[str, Any]:
    return {"spans_schema": spans_schema(), "max_rows": SQL_MAX_ROWS, "max_chars": RESULT_MAX_CHARS}


def spans_schema() -> str:
    """The CREATE TABLE spans statement (with its column comments) from the schema migration."""
    text = sql_text("schema/001_spans.sql")
    start = text.index("CREATE TABLE spans")
    end = text.index("\n);", start) + 3
    return text[start:end]
