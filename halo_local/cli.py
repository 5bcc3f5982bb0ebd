"""The `halo-local` command line: a thin fire adapter over the Python API.

Each command converts its flags explicitly (fire guesses types: `9,10` arrives as a tuple, `09`
as a string), calls one API function and returns an `Output` holding both the JSON document and
the human text. `main()` owns everything fire gets wrong for scripts: unknown flags are refused
before anything runs, bare boolean flags cannot swallow the next argument, `--json` works on
every command, and errors are one line on stderr with a documented exit code.
"""

from __future__ import annotations

import contextvars
import difflib
import importlib.metadata
import inspect
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fire

from halo_local import llm, render, runs, schedules, traces, untrusted, usecases, verdicts
from halo_local.errors import HaloLocalError, UsageError
from halo_local.flags import FALSE_WORDS, TRUE_WORDS, parse_assignments, parse_bool, parse_int, parse_text
from halo_local.ingest import describe_skipped, load_paths
from halo_local.ingest.readers import SUPPORTED_FORMATS
from halo_local.llm.models import API_KEY_ENV
from halo_local.resources import resource_dir
from halo_local.sandbox import memory_limit_bytes
from halo_local.store import Store, environment_failure

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_INTERRUPTED = 130
EXIT_PIPE_CLOSED = 141  # as a shell reports a command killed by SIGPIPE (`... | head`)

COMMAND_ALIASES = {"ls": "list", "conv": "conversation"}
# Whether this invocation asked for --json: interactive prompts are refused then.
JSON_MODE: contextvars.ContextVar[bool] = contextvars.ContextVar("json_mode", default=False)


@dataclass
class Output:
    """What a command produced: `data` for --json, `text` for people, and the exit code."""

    data: Any
    text: str
    exit_code: int = EXIT_OK


def _store() -> Store:
    return Store()


def _progress_printer() -> Callable[[int, int, Path], None] | None:
    """A one-line progress display on stderr, only when stderr is a terminal."""
    if not sys.stderr.isatty():
        return None

    def show(index: int, total: int, path: Path) -> None:
        width = 24
        filled = int(width * index / max(total, 1))
        shown = untrusted.terminal_line(str(path)[-60:])
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {index}/{total} {shown:<60}")
        if index == total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show


class TracesCommands:
    """Load trace exports (OTLP/JSON, JSON Lines of it, OTLP protobuf, HALO's flat JSONL; .gz and .zst too)."""

    def load(self, *paths: str, format: str = "auto", skip_invalid: bool = False) -> Output:
        """Load files, directories (recursively) and globs into the local database."""
        if not paths:
            raise UsageError("traces load needs at least one PATH (file, directory or glob)")
        chosen = str(format)
        if chosen != "auto" and chosen not in SUPPORTED_FORMATS:
            raise UsageError(f"--format must be auto or one of {', '.join(SUPPORTED_FORMATS)}; got {chosen!r}")
        summary = load_paths(
            _store(), [str(p) for p in paths], format=chosen,
            skip_invalid=parse_bool(skip_invalid, "--skip-invalid"), progress=_progress_printer(),
        )
        data = summary.to_json()
        not_traces = f", {data['filesNotTraces']} not traces" if data["filesNotTraces"] else ""
        lines = [
            f"Files: {data['files']} ({data['filesLoaded']} loaded, {data['filesUnchanged']} unchanged{not_traces})",
            f"Spans: {data['spansNew']:,} new, {data['duplicates']:,} duplicates, {data['skipped']:,} skipped",
            f"Traces: {data['traces']:,}   Agents: {data['agents']:,}",
            f"Time range: {render.timestamp(data['timeRange']['start'])} .. {render.timestamp(data['timeRange']['end'])} UTC",
        ]
        for detail in data["details"]:
            if detail["status"] == "not_traces":
                lines.append(f"  left alone {detail['path']}: not trace data")
            elif detail["status"] == "loaded" and detail["readFromLine"] > 1:
                lines.append(f"  read {detail['path']} from line {detail['readFromLine']:,} on: it grew, the lines"
                             " before are loaded and unchanged")
            elif detail["status"] == "loaded" and not detail["spansRead"] and not detail["skipped"]:
                lines.append(f"  no spans in {detail['path']}")
            for skipped in detail["firstSkipped"]:
                lines.append(f"  skipped {detail['path']}:{skipped['line']}: {skipped['reason']}")
        return Output(data, "\n".join(lines))


class AgentCommands:
    """Agents found in the stored traces."""

    def list(self, time_range: str = "30d") -> Output:
        """Agents with spans in the time range (1h 6h 12h 1d 3d 7d 14d 30d 90d all)."""
        store = _store()
        agents = traces.list_agents(store, time_range=str(time_range))
        text = render.table(
            agents,
            [("agentUuid", "AGENT UUID"), ("name", "NAME"), ("serviceName", "SERVICE"),
             ("traceCount", "TRACES", render.count), ("spanCount", "SPANS", render.count),
             ("errorCount", "ERRORS", render.count), ("firstSeenAt", "FIRST SEEN", render.timestamp),
             ("lastSeenAt", "LAST SEEN", render.timestamp)],
            empty=_empty_range_message(store, str(time_range)),
        )
        return Output(agents, text)


def _range_phrase(time_range: str) -> str:
    """`in the last 30d`, and `at any time` for all."""
    key = time_range.strip().lower()
    return "at any time" if key == "all" else f"in the last {key}"


def _empty_range_message(store: Store, time_range: str) -> str:
    covered = traces.stored_range(store)
    if not covered["spanCount"]:
        return "No traces are stored yet. Load some with `halo-local traces load PATH`."
    stored = (f"Stored spans cover {render.timestamp(covered['firstSeenAt'])} .. "
              f"{render.timestamp(covered['lastSeenAt'])} UTC")
    if time_range.strip().lower() == "all":
        return f"Nothing matches these filters. {stored}."
    return f"Nothing {_range_phrase(time_range)}. {stored}; try --time-range all."


class TraceCommands:
    """Stored traces."""

    def list(self, agent: str | None = None, time_range: str = "30d", errors_only: bool = False,
             limit: int = 50) -> Output:
        """Traces newest first; --agent takes a UUID or name, --errors-only keeps failing traces."""
        store = _store()
        rows = traces.list_traces(
            store, agent=parse_text(agent), time_range=str(time_range),
            errors_only=parse_bool(errors_only, "--errors-only"), limit=parse_int(limit, "--limit", 1),
        )
        text = render.table(
            rows,
            [("traceId", "TRACE ID"), ("rootName", "ROOT"), ("agentName", "AGENT"),
             ("startTime", "STARTED", render.timestamp), ("durationMs", "DURATION", render.duration),
             ("spanCount", "SPANS", render.count), ("errorCount", "ERRORS", render.count),
             ("costUsd", "COST", render.usd)],
            empty=_empty_range_message(store, str(time_range)),
        )
        return Output(rows, text)

    def get(self, trace_id: str) -> Output:
        """One trace as an indented tree: durations, status, model, tokens, tools, errors."""
        found = traces.get_trace(_store(), str(trace_id))
        return Output(found, f"Trace {found['traceId']} ({found['spanCount']} spans)\n" + render.trace_tree(found["spans"]))


class SpanCommands:
    """Stored spans."""

    def list(self, trace_id: str | None = None, agent: str | None = None, type: str | None = None,
             name: str | None = None, time_range: str = "all", errors_only: bool = False,
             limit: int = 100) -> Output:
        """Spans newest first, filtered by trace, agent, type, name, time range or errors."""
        store = _store()
        rows = traces.list_spans(
            store, trace_id=parse_text(trace_id), agent=parse_text(agent),
            span_type=parse_text(type), name=parse_text(name), time_range=str(time_range),
            errors_only=parse_bool(errors_only, "--errors-only"), limit=parse_int(limit, "--limit", 1),
        )
        text = render.table(
            rows,
            [("spanId", "SPAN ID"), ("traceId", "TRACE ID"), ("name", "NAME"), ("spanType", "TYPE"),
             ("startTime", "STARTED", render.timestamp), ("durationMs", "DURATION", render.duration),
             ("statusCode", "STATUS"), ("model", "MODEL"), ("toolName", "TOOL")],
            empty=_empty_range_message(store, str(time_range)),
        )
        return Output(rows, text)

    def get(self, span_id: str, trace_id: str | None = None) -> Output:
        """Every stored column of one span, raw attributes included."""
        span = traces.get_span(_store(), str(span_id), trace_id=parse_text(trace_id))
        pairs = [(key, json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else value)
                 for key, value in span.items()]
        return Output(span, render.key_values(pairs))


def _as_seconds(value: Any, flag: str, *, minimum: float) -> float:
    try:
        number = float(str(value).strip())
    except ValueError:
        raise UsageError(f"{flag} takes a number of seconds; got {value!r}") from None
    if number < minimum:
        raise UsageError(f"{flag} must be at least {minimum:g}; got {number:g}")
    return number


def _print_event(event: dict[str, Any]) -> None:
    """One progress line on stderr per run event (stdout stays the command's result)."""
    line = f"{render.timestamp(event.get('at'))[11:]}  {event['kind']:<15} {event['message']}"
    sys.stderr.write(untrusted.terminal_line(line) + "\n")
    sys.stderr.flush()


def _pick_agent(store: Store, time_range: str) -> str:
    """On a terminal, a numbered list of recent agents to choose from; otherwise --agent-uuid is required."""
    if JSON_MODE.get() or not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise UsageError("--agent-uuid is required without a terminal or with --json",
                         hint="`halo-local agent list --time-range all` shows the agent UUIDs")
    agents = traces.list_agents(store, time_range=time_range)
    if not agents:
        raise UsageError(f"no agent has spans {_range_phrase(time_range)}",
                         hint="widen --agent-time-range (e.g. all), or load traces with `halo-local traces load PATH`")
    sys.stderr.write(f"Agents active {_range_phrase(time_range)}:\n")
    for number, agent in enumerate(agents, start=1):
        line = (f"  {number:>2}. {agent['name'] or '-'}  {agent['agentUuid']}  "
                f"{agent['traceCount']:,} traces, last seen {render.timestamp(agent['lastSeenAt'])}")
        sys.stderr.write(untrusted.terminal_line(line) + "\n")
    sys.stderr.write(f"Agent number [1-{len(agents)}]: ")
    sys.stderr.flush()
    answer = sys.stdin.readline().strip() or "1"
    choice = parse_int(answer, "the agent number", 1, len(agents))
    return agents[choice - 1]["agentUuid"]


def _run_text(run: dict[str, Any]) -> str:
    lines = [
        f"Run {run['runId']} {run['status']}" + (f": {run['statusReason']}" if run["statusReason"] else ""),
        f"Conversation: {run['conversationId']}",
        f"Agent: {run['agentName'] or '-'} ({run['agentUuid']})",
        f"Window: {render.timestamp(run['window']['start'])} .. {render.timestamp(run['window']['end'])} UTC",
    ]
    if run["status"] in ("queued", "running"):
        lines.append(f"Follow it: halo-local run poll {run['runId']}")
    elif run["status"] == "completed" or run["reportPath"]:
        lines.append(f"Report: halo-local conversation get {run['conversationId']}")
    return "\n".join(lines)


def _run_details_text(run: dict[str, Any]) -> str:
    dataset, llm_use, options, timings = run["traceDataset"], run["llm"], run["options"], run["timings"]
    if llm_use["ran"]:
        llm_line = (f"ran: {render.count(llm_use['inputTokens'])} in / {render.count(llm_use['outputTokens'])} out "
                    f"tokens, {render.usd(llm_use['costUsd'])}, {llm_use['turns']} turns")
    elif llm_use["degraded"]:
        llm_line = f"failed, report is heuristics-only (degraded): {llm_use['error']}"
    elif llm_use["skippedReason"]:
        llm_line = f"skipped: {llm_use['skippedReason']}"
    elif run["status"] in runs.ACTIVE_STATES:
        llm_line = "pending"
    else:
        llm_line = "did not run"
    cut = " (cut by the span limit)" if dataset["truncated"] else ""
    dataset_line = "-"
    if dataset["spans"] is not None:
        dataset_line = (f"{render.count(dataset['spans'])} spans in {render.count(dataset['traces'])} traces{cut}"
                        f"; {render.count(dataset['spansInWindow'])} spans in the window")
    snapshot = dataset["path"] if dataset["path"] and os.path.exists(dataset["path"]) else "-"
    findings_count = str(run["findingCount"]) if run["kind"] == "analysis" and dataset["spans"] is not None else "-"
    pairs = [
        ("Run", run["runId"]), ("Kind", run["kind"]), ("Status", run["status"]),
        ("Reason", run["statusReason"]), ("Conversation", run["conversationId"]),
        ("Agent", f"{run['agentName'] or '-'} ({run['agentUuid']})"),
        ("Window", f"{render.timestamp(run['window']['start'])} .. {render.timestamp(run['window']['end'])} UTC"),
        ("Model", run["modelId"]),
        ("Options", f"span limit {options['spanLimit']:,}, max turns {options['maxTurns']}, max sub-agent depth "
                    f"{options['maxSubagentDepth']}, time limit {options['timeLimitSeconds'] // 60} min"
                    + (", --no-llm" if options["noLlm"] else "")),
        ("Prompt", options["prompt"]),
        ("Created", render.timestamp(timings["createdAt"])), ("Started", render.timestamp(timings["startedAt"])),
        ("Finished", render.timestamp(timings["finishedAt"])),
        ("Duration", render.duration(timings["durationSeconds"] * 1000 if timings["durationSeconds"] is not None else None)),
        ("LLM pass", llm_line),
        ("Trace dataset", dataset_line),
        ("Snapshot", snapshot),
        ("Findings", findings_count),
    ]
    text = render.key_values(pairs)
    findings = run.get("findings") or []
    if findings:
        text += "\n\n" + render.table(
            [{"rank": rank, **item} for rank, item in enumerate(findings, start=1)],
            [("rank", "#"), ("severity", "SEVERITY"), ("category", "CATEGORY"), ("subject", "SUBJECT"),
             ("title", "TITLE")],
        )
    return text


class RunCommands:
    """Analysis runs: create one, follow it, read its results, cancel it."""

    def create(self, agent_uuid: str | None = None, prompt: str | None = None, window_start_at: str | None = None,
               window_end_at: str | None = None, lookback_hours: int | None = None,
               model_id: str | None = None, span_limit: int = runs.DEFAULT_SPAN_LIMIT,
               max_subagent_depth: int = runs.DEFAULT_MAX_SUBAGENT_DEPTH, max_turns: int = runs.DEFAULT_MAX_TURNS,
               agent_time_range: str = "30d", time_limit_minutes: int = runs.DEFAULT_TIME_LIMIT_SECONDS // 60,
               thresholds: str | None = None, no_llm: bool = False, wait: bool = False) -> Output:
        """Analyse one agent's spans in a window; returns at once unless --wait (then exits like `run poll`).

        The window ends at --window-end-at (default now) and starts at --window-start-at (default end
        minus --lookback-hours). Without --agent-uuid on a terminal, pick from the agents active in
        --agent-time-range. --no-llm gives a heuristics-only report. --thresholds overrides heuristics
        thresholds for this run (`loop_min_repeats=4,latency_outlier_mad=4` or a JSON object). --wait shows
        progress on stderr only when it is a terminal, as `analyze` does.
        """
        options = {
            "lookback_hours": None if lookback_hours is None else parse_int(lookback_hours, "--lookback-hours", 1),
            "span_limit": parse_int(span_limit, "--span-limit", 1, runs.MAX_SPAN_LIMIT),
            "max_subagent_depth": parse_int(max_subagent_depth, "--max-subagent-depth", 1, 5),
            "max_turns": parse_int(max_turns, "--max-turns", 1, 100),
            "time_limit_seconds": 60 * parse_int(time_limit_minutes, "--time-limit-minutes", 1),
            "no_llm": parse_bool(no_llm, "--no-llm"),
            "thresholds": parse_assignments(thresholds, "--thresholds"),
        }
        waiting = parse_bool(wait, "--wait")
        runs.resolve_window(parse_text(window_start_at), parse_text(window_end_at), options["lookback_hours"])
        store = _store()
        chosen = parse_text(agent_uuid)
        if chosen is None:
            traces.since_for(str(agent_time_range), flag="--agent-time-range")
            chosen = _pick_agent(store, str(agent_time_range))
        run = runs.create_run(
            store, agent_uuid=chosen, prompt=parse_text(prompt), window_start_at=parse_text(window_start_at),
            window_end_at=parse_text(window_end_at), model_id=parse_text(model_id), wait=waiting,
            on_event=_print_event if waiting and sys.stderr.isatty() else None, **options,
        )
        exit_code = runs.POLL_EXIT_CODES.get(run["status"], EXIT_OK) if waiting else EXIT_OK
        return Output(run, _run_text(run), exit_code)

    def poll(self, run_id: str, interval: float = 5, timeout: float = 1800) -> Output:
        """Wait until the run ends, printing its events on stderr.

        Exit codes: 0 completed, 3 failed, 4 cancelled, 5 timed_out, 6 no_traces, 7 --timeout reached first.
        """
        run, timed_out = runs.poll_run(
            _store(), str(run_id), interval=_as_seconds(interval, "--interval", minimum=0.05),
            timeout=_as_seconds(timeout, "--timeout", minimum=0), on_event=_print_event,
        )
        exit_code = runs.POLL_TIMEOUT_EXIT_CODE if timed_out else runs.POLL_EXIT_CODES[run["status"]]
        text = _run_text(run)
        if timed_out:
            text += f"\nStill {run['status']} after {timeout}s; poll again or cancel it with `halo-local run cancel {run['runId']}`"
        return Output(run, text, exit_code)

    def get(self, run_id: str) -> Output:
        """A run's metadata: status, agent, window, model, options, timings, LLM usage, trace dataset, findings."""
        run = runs.get_run(_store(), str(run_id))
        return Output(run, _run_details_text(run))

    def events(self, run_id: str, limit: int = 100) -> Output:
        """The run's timeline (latest --limit events, oldest first): steps, LLM turns, tool calls, outcome."""
        rows = runs.run_events(_store(), str(run_id), limit=parse_int(limit, "--limit", 1))
        text = render.table(rows, [("seq", "#"), ("at", "AT", render.timestamp), ("kind", "KIND"),
                                   ("message", "MESSAGE")])
        return Output(rows, text)

    def traces(self, run_id: str, flagged: bool = False, limit: int = 100) -> Output:
        """The window's traces ranked by how likely they failed, with the findings that flag each.

        --flagged keeps the traces that ended badly (failed root, hand-off, give-up, cut short) or
        that a finding singles out (one covering every trace does not); --limit caps the rows (default 100).
        """
        run = runs.get_run(_store(), str(run_id))
        document = verdicts.list_verdicts(_store(), run, flagged=parse_bool(flagged, "--flagged"),
                                          limit=parse_int(limit, "--limit", 1))
        rows = [{**row, "flaggedBy": ", ".join(item["category"] for item in row["findings"]) or "-"}
                for row in document["traces"]]
        text = render.table(
            rows, [("rank", "#"), ("traceId", "TRACE ID"), ("outcome", "OUTCOME"), ("score", "SCORE"),
                   ("spans", "SPANS"), ("flaggedBy", "FLAGGED BY")],
            empty=f"No trace verdicts for run {document['runId']} ({document['status']})."
                  if not document["totalTraces"] else "No trace is flagged.",
        )
        text += (f"\n{document['flaggedTraces']} of {document['totalTraces']} traces flagged, "
                 f"{document['endedBadly']} ended badly.")
        return Output(document, text)

    def cancel(self, run_id: str, reason: str = runs.DEFAULT_CANCEL_REASON) -> Output:
        """Cancel a queued or running run (honoured within seconds, also mid LLM call)."""
        run = runs.cancel_run(_store(), str(run_id), reason=str(reason))
        text = _run_text(run)
        if run["status"] in ("queued", "running"):
            text += "\nCancel requested; the worker has not confirmed yet."
        elif not run["cancelRequested"]:
            text = f"Nothing to cancel: run {run['runId']} had already ended {run['status']}.\n" + text
        return Output(run, text)

    def list(self, limit: int = 50) -> Output:
        """Runs newest first."""
        rows = runs.list_runs(_store(), limit=parse_int(limit, "--limit", 1))
        table_rows = [{**row, "createdAt": row["timings"]["createdAt"]} for row in rows]
        text = render.table(
            table_rows,
            [("runId", "RUN ID"), ("kind", "KIND"), ("status", "STATUS"), ("agentName", "AGENT"),
             ("createdAt", "CREATED", render.timestamp), ("findingCount", "FINDINGS"),
             ("conversationId", "CONVERSATION")],
            empty="No runs yet. Start one with `halo-local run create --agent-uuid UUID`.",
        )
        return Output(rows, text)


class ConversationCommands:
    """Conversations: a run's report, then follow-up questions and answers."""

    def list(self, limit: int = 50) -> Output:
        """Conversations newest first."""
        rows = usecases.list_conversations(_store(), limit=parse_int(limit, "--limit", 1))
        text = render.table(
            rows,
            [("conversationId", "CONVERSATION"), ("title", "TITLE"), ("status", "STATUS"),
             ("messageCount", "MESSAGES"), ("createdAt", "CREATED", render.timestamp)],
            empty="No conversations yet. `halo-local run create` starts one.",
        )
        return Output(rows, text)

    def get(self, conversation_id: str) -> Output:
        """Every message in full (the first assistant message is the report); --json is the raw payload."""
        found = usecases.get_conversation(_store(), str(conversation_id))
        parts = [f"Conversation {found['conversationId']}: {found['title']}"]
        for message in found["messages"]:
            parts.append(f"\n--- {message['role']} ({message['runId']}, {render.timestamp(message['createdAt'])}) ---\n")
            parts.append(message["content"].rstrip("\n"))
        return Output(found, "\n".join(parts))

    def ask(self, conversation_id: str, question: str, no_llm: bool = False, model_id: str | None = None) -> Output:
        """Ask a follow-up; answered from the report, the findings and the run's data."""
        answered = usecases.ask(
            _store(), str(conversation_id), str(question), no_llm=parse_bool(no_llm, "--no-llm"),
            model_id=parse_text(model_id), on_event=_print_event if sys.stderr.isatty() else None,
        )
        exit_code = runs.POLL_EXIT_CODES.get(answered["status"], EXIT_OK)
        reason = f": {answered['statusReason']}" if answered["statusReason"] else ""
        text = answered["answer"] or f"No answer: the follow-up run {answered['runId']} ended {answered['status']}{reason}"
        return Output(answered, text.rstrip("\n"), exit_code)


class ModelCommands:
    """The Anthropic models the LLM pass can use."""

    def list(self) -> Output:
        """Model ids `--model-id` accepts; the default is marked."""
        rows = [{"modelId": item.model_id, "displayName": item.display_name, "default": item.default}
                for item in llm.model_catalog()]
        text = "\n".join(f"{'*' if row['default'] else ' '} {row['modelId']:<28} {row['displayName']}" for row in rows)
        return Output(rows, text + "\n(* default)")


def _schedule_text(schedule: schedules.Schedule, upcoming: int = 0) -> str:
    data, spec = schedule.to_json(), schedule.spec
    state = "archived" if data["archived"] else ("enabled" if spec.enabled else "paused (--enabled false)")
    pairs = [
        ("Schedule", f"{data['scheduleId']}: {data['title']}"), ("Agent", data["agentUuid"]),
        ("Cadence", spec.describe()), ("State", state),
        ("Next run", f"{render.timestamp(data['nextRunAt'])} UTC" if data["nextRunAt"] else None),
        ("Last fired", f"{render.timestamp(data['lastFiredAt'])} UTC" if data["lastFiredAt"] else None),
        ("Runs", f"look back {spec.lookback_hours}h, span limit {spec.span_limit:,}, max turns {spec.max_turns}, "
                 f"max sub-agent depth {spec.max_subagent_depth}, model {spec.model_id or 'default'}"),
        ("Prompt", spec.prompt or "(default)"),
        ("Sources", (", ".join(spec.sources) + ("" if spec.skip_invalid else " (strict: --skip-invalid false)"))
         if spec.sources else None),
    ]
    text = render.key_values(pairs)
    if upcoming:
        times = schedule.upcoming(upcoming)
        text += "\n\nNext fire times (UTC):" + "".join(f"\n  {render.timestamp(schedules.iso(at))}" for at in times)
    notes = "".join(f"\nNote: {note}" for note in spec.notes())
    return text + notes


def _schedule_document(schedule: schedules.Schedule, upcoming: int = 0) -> dict[str, Any]:
    document = schedule.to_json()
    if upcoming:
        document["nextRunTimes"] = [schedules.iso(at) for at in schedule.upcoming(upcoming)]
    return document


class ScheduleCommands:
    """Recurring analyses of one agent, fired by `halo-local schedule tick` (install it with `schedule cron`)."""

    def create(self, title: str | None = None, agent_uuid: str | None = None, frequency: str | None = None,
               minutes: str | None = None, hours: str | None = None, days_of_week: str | None = None,
               days_of_month: str | None = None, timezone: str = "UTC", prompt: str | None = None,
               model_id: str | None = None, span_limit: int = schedules.DEFAULT_SPAN_LIMIT,
               lookback_hours: int = schedules.DEFAULT_LOOKBACK_HOURS,
               max_subagent_depth: int = schedules.DEFAULT_MAX_SUBAGENT_DEPTH,
               max_turns: int = schedules.DEFAULT_MAX_TURNS, enabled: bool = True, source: tuple[str, ...] = (),
               skip_invalid: bool = True) -> Output:
        """Create a recurring analysis of one agent.

        --frequency hourly|daily|weekly|monthly, --minutes 0-59 (comma-separated), --hours 0-23 (not
        hourly), --days-of-week 0=Sun..6 (weekly), --days-of-month 1-31 (monthly; a month without the
        day is skipped), --timezone IANA. --source PATH_OR_GLOB (repeatable) is loaded before each run,
        leaving out bad records and unreadable files unless --skip-invalid false.
        """
        spec = schedules.ScheduleSpec.from_flags(
            title=title, agent_uuid=agent_uuid, frequency=frequency, minutes=minutes, hours=hours,
            days_of_week=days_of_week, days_of_month=days_of_month, timezone=timezone, prompt=prompt,
            model_id=model_id, span_limit=span_limit, lookback_hours=lookback_hours,
            max_subagent_depth=max_subagent_depth, max_turns=max_turns, enabled=enabled, source=source or None,
            skip_invalid=skip_invalid,
        )
        created = schedules.create_schedule(_store(), spec)
        return Output(created.to_json(), "Created.\n" + _schedule_text(created))

    def list(self, include_archived: bool = False) -> Output:
        """Schedules oldest first; --include-archived adds the archived ones."""
        found = schedules.list_schedules(_store(), parse_bool(include_archived, "--include-archived"))
        rows = [{**item.to_json(), "cadence": item.spec.describe(),
                 "state": "archived" if item.archived_at else ("enabled" if item.spec.enabled else "paused")}
                for item in found]
        text = render.table(
            rows,
            [("scheduleId", "SCHEDULE ID"), ("title", "TITLE"), ("agentUuid", "AGENT UUID"), ("cadence", "CADENCE"),
             ("state", "STATE"), ("nextRunAt", "NEXT RUN (UTC)", render.timestamp),
             ("lastFiredAt", "LAST FIRED (UTC)", render.timestamp)],
            empty="No schedules. Create one with `halo-local schedule create --title ... --agent-uuid ... "
                  "--frequency daily --minutes 0 --hours 9`.",
        )
        return Output([item.to_json() for item in found], text)

    def get(self, schedule_id: str) -> Output:
        """One schedule with its next few fire times."""
        found = schedules.get_schedule(_store(), str(schedule_id))
        return Output(_schedule_document(found, schedules.UPCOMING_COUNT), _schedule_text(found, schedules.UPCOMING_COUNT))

    def runs(self, schedule_id: str, limit: int = 50) -> Output:
        """The fire times the schedule claimed, newest first, with each run's id and status."""
        fires = schedules.schedule_runs(_store(), str(schedule_id), limit=parse_int(limit, "--limit", 1))
        rows = [fire.to_json() for fire in fires]
        text = render.table(
            rows,
            [("slotAt", "SLOT (UTC)", render.timestamp), ("firedAt", "FIRED AT (UTC)", render.timestamp),
             ("runId", "RUN ID"), ("runStatus", "STATUS"), ("error", "ERROR")],
            empty="This schedule has not fired yet.",
        )
        return Output(rows, text)

    def update(self, schedule_id: str, title: str | None = None, agent_uuid: str | None = None,
               frequency: str | None = None, minutes: str | None = None, hours: str | None = None,
               days_of_week: str | None = None, days_of_month: str | None = None, timezone: str | None = None,
               prompt: str | None = None, model_id: str | None = None, span_limit: int | None = None,
               lookback_hours: int | None = None, max_subagent_depth: int | None = None,
               max_turns: int | None = None, enabled: str | None = None, source: tuple[str, ...] = (),
               skip_invalid: str | None = None) -> Output:
        """Change any of the create flags; `--enabled false` pauses, a new cadence skips the slots already past."""
        changes = schedules.ScheduleChanges.from_flags(
            title=title, agent_uuid=agent_uuid, frequency=frequency, minutes=minutes, hours=hours,
            days_of_week=days_of_week, days_of_month=days_of_month, timezone=timezone, prompt=prompt,
            model_id=model_id, span_limit=span_limit, lookback_hours=lookback_hours,
            max_subagent_depth=max_subagent_depth, max_turns=max_turns, enabled=enabled, source=source or None,
            skip_invalid=skip_invalid,
        )
        updated = schedules.update_schedule(_store(), str(schedule_id), changes)
        return Output(updated.to_json(), "Updated.\n" + _schedule_text(updated))

    def archive(self, schedule_id: str, yes: bool = False) -> Output:
        """Archive a schedule (it stops firing); asks first unless -y/--yes, and refuses without a terminal."""
        store = _store()
        found = schedules.get_schedule(store, str(schedule_id))
        if not parse_bool(yes, "--yes"):
            if JSON_MODE.get() or not (sys.stdin.isatty() and sys.stderr.isatty()):
                raise UsageError("schedule archive needs confirmation: pass --yes (no terminal to ask on)")
            sys.stderr.write(untrusted.terminal_line(f"Archive schedule {found.schedule_id} ({found.spec.title})? ")
                             + "[y/N] ")
            sys.stderr.flush()
            if sys.stdin.readline().strip().lower() not in ("y", "yes"):
                return Output(found.to_json(), "Not archived.", EXIT_ERROR)
        archived = schedules.archive_schedule(store, found.schedule_id)
        return Output(archived.to_json(), f"Archived {archived.schedule_id}; `halo-local schedule unarchive "
                                          f"{archived.schedule_id}` brings it back.")

    def unarchive(self, schedule_id: str) -> Output:
        """Bring an archived schedule back; the slots that passed meanwhile are not fired."""
        restored = schedules.unarchive_schedule(_store(), str(schedule_id))
        return Output(restored.to_json(), "Unarchived.\n" + _schedule_text(restored))

    def tick(self, now: str | None = None) -> Output:
        """Fire every schedule whose time has come, each fire time once; cron runs this every minute.

        A missed tick fires only the latest missed time. --now (ISO) ticks as if at that time (tests, back-fills).
        Runs fired without ANTHROPIC_API_KEY are heuristics-only, and the output says so.
        Exit code 1 when a schedule failed to fire (its error is recorded and shown).
        """
        moment = schedules.parse_timestamp(now) if now is not None else schedules.utc_now()
        store = _store()
        fired = schedules.tick(store, moment, schedules.start_scheduled_run(store), schedules.load_trace_sources(store))
        # Cron gives the tick a bare environment: without the key every run it starts is heuristics-only.
        heuristics_only = any(item.run_id for item in fired) and llm.llm_skip_reason(no_llm=False) is not None
        data = {"now": schedules.iso(moment), "fired": [item.to_json() for item in fired],
                "heuristicsOnly": heuristics_only}
        lines = [f"{schedules.iso(moment)} fired {len(fired)} schedule(s)"
                 + (f" (heuristics-only: no {API_KEY_ENV})" if heuristics_only else "")]
        for item in fired:
            outcome = f"run {item.run_id}" if item.run_id else f"FAILED: {item.error}"
            lines.append(f"  {item.schedule_id} ({item.title}) slot {schedules.iso(item.slot_at)}: {outcome}")
            lines.extend(f"    warning: {warning}" for warning in item.warnings)
        return Output(data, "\n".join(lines), EXIT_ERROR if any(item.error for item in fired) else EXIT_OK)

    def cron(self) -> Output:
        """The crontab line that runs `schedule tick` every minute for this $HALO_HOME, logging to a file in it.

        Install it with: (crontab -l 2>/dev/null; halo-local schedule cron) | crontab -
        """
        home = _store().home
        line = schedules.cron_line(home, schedules.installed_executable())
        return Output({"cronLine": line, "home": str(home), "logFile": str(home / schedules.TICK_LOG_FILE)}, line)


class HaloLocalCli:
    """halo-local: analyze LLM-agent OpenTelemetry traces locally. Add --json to any command."""

    def __init__(self) -> None:
        self.traces = TracesCommands()
        self.agent = AgentCommands()
        self.trace = TraceCommands()
        self.span = SpanCommands()
        self.run = RunCommands()
        self.conversation = ConversationCommands()
        self.model = ModelCommands()
        self.schedule = ScheduleCommands()

    def home(self) -> Output:
        """Where halo-local keeps its database and run files ($HALO_HOME)."""
        store = _store()
        data = {"home": str(store.home), "database": str(store.db_path)}
        return Output(data, str(store.home))

    def query(self, sql: str, limit: int = 200, memory_limit: str | None = None) -> Output:
        """Read-only SQL over the stored spans (the table `spans`).

        Runs the SQL a report's "How to reproduce" gives, or any other: one SELECT-like statement (WITH,
        DESCRIBE, SUMMARIZE, EXPLAIN); anything that writes is refused. At most --limit rows are shown;
        `truncated` (--json) says when the query returned more. --memory-limit (e.g. 512MB, 2GB; default
        $HALO_SANDBOX_MEMORY_LIMIT or 1GB) bounds the memory the query may use beyond the loaded spans.
        """
        memory = None if memory_limit is None else memory_limit_bytes(str(memory_limit), "--memory-limit")
        result = traces.query_spans(_store(), str(sql), max_rows=parse_int(limit, "--limit", 1), memory_limit=memory)
        return Output(result.to_json(), result.to_text())

    def mcp(self) -> Output:
        """Serve this $HALO_HOME to coding assistants (Claude Code, Cursor) as an MCP server over stdio.

        Register the command `halo-local mcp` in the assistant's MCP settings; it serves until stdin closes.
        """
        from halo_local import mcp_server  # the MCP SDK is heavy: only this command loads it

        mcp_server.serve(_store())
        return Output(None, "")

    def serve(self, host: str = "127.0.0.1", port: int = 4318, token: str | None = None,
              max_body: int = 8 << 20, max_backlog: int = 512 << 20) -> Output:
        """Receive traces over OTLP/HTTP (POST /v1/traces, protobuf or JSON, gzip) and store them.

        Set OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 in the agent. Acknowledged spans are kept in a
        spool under $HALO_HOME until stored (within seconds). A host other than loopback needs --token
        (requests then carry 'Authorization: Bearer TOKEN'); --port 0 picks a free port. Ctrl-C or SIGTERM stops.
        """
        from halo_local.serve import command, receiver

        options = receiver.ReceiverOptions(
            host=parse_text(host) or "127.0.0.1", port=parse_int(port, "--port", 0, 65535), token=parse_text(token),
            max_body=parse_int(max_body, "--max-body", 1), max_backlog=parse_int(max_backlog, "--max-backlog", 1))
        data, text = command.serve(_store(), options, json_mode=JSON_MODE.get())
        return Output(data, text)

    def analyze(self, *paths: str, agent_uuid: str | None = None, prompt: str | None = None,
                model_id: str | None = None, no_llm: bool = False, skip_invalid: bool = False) -> Output:
        """Load trace files (default: the bundled sample traces) and print a full analysis report.

        Analyses the busiest agent in the files (or --agent-uuid) over the files' own time range;
        heuristics-only without ANTHROPIC_API_KEY or with --no-llm. --skip-invalid loads the good
        records of a damaged file, as `traces load` does. Exit codes are those of `run poll`
        (6 no_traces also when the files hold no spans).
        """
        sources = [str(path) for path in paths] or [str(resource_dir("sample_traces"))]
        result = usecases.analyze_paths(
            _store(), sources, agent_uuid=parse_text(agent_uuid), prompt=parse_text(prompt),
            model_id=parse_text(model_id), no_llm=parse_bool(no_llm, "--no-llm"),
            skip_invalid=parse_bool(skip_invalid, "--skip-invalid"),
            on_event=_print_event if sys.stderr.isatty() else None,
        )
        for entry in result["skipped"]:
            sys.stderr.write(f"Warning: {untrusted.terminal_line(describe_skipped(entry))}\n")
        text = result["report"] or _run_text(result)
        if result["otherAgents"]:
            names = ", ".join(f"{item['name'] or '-'} ({item['agentUuid']})" for item in result["otherAgents"])
            text += f"\n\nAlso in these files (analyse with --agent-uuid): {names}"
        return Output(result, text.rstrip("\n"), runs.POLL_EXIT_CODES.get(result["status"], EXIT_OK))


def _commands_of(component: Any) -> dict[str, Any]:
    """The groups and commands of the program, or the commands of a group, in the order they are defined."""
    names = [*vars(component), *vars(type(component))]
    return {name: getattr(component, name) for name in names if not name.startswith("_")}


def _resolve_target(root: Any, args: Sequence[str]) -> tuple[Any, list[str], int]:
    """Walk the command words to the method (or bare group) they name; returns (it, names, index after them).

    Aliases (`ls`, `conv`) apply to these command words only, never to values further on.
    """
    component = root
    words: list[str] = []
    index = 0
    while index < len(args) and not args[index].startswith("-"):
        typed = args[index]
        word = COMMAND_ALIASES.get(typed, typed).replace("-", "_")
        members = list(_commands_of(component))
        if word not in members:
            where = " ".join(["halo-local", *words])
            close = difflib.get_close_matches(word, members, n=1)
            hint = f"did you mean `{where} {close[0]}`?" if close else f"`{where}` lists the commands"
            raise UsageError(f"unknown command {typed!r} for `{where}`", hint=hint)
        words.append(word)
        component = getattr(component, word)
        index += 1
        if inspect.ismethod(component):
            break
    return component, words, index


def _positional_names(target: Callable[..., Any]) -> list[str]:
    """What a command takes by position (TRACE_ID, PATH...): its required parameters and *args; the rest are flags."""
    names = []
    for name, parameter in inspect.signature(target).parameters.items():
        if parameter.kind is parameter.VAR_POSITIONAL:
            names.append(f"{name.upper().removesuffix('S')}...")
        elif parameter.default is parameter.empty:
            names.append(name.upper())
    return names


def _usage(target: Callable[..., Any], words: Sequence[str]) -> str:
    """`halo-local span get SPAN_ID [--trace-id]`: the command line a command takes (long flag lists via --help)."""
    command = " ".join(["halo-local", *words])
    flags = [f"[--{name.replace('_', '-')}]" for name, parameter in inspect.signature(target).parameters.items()
             if parameter.default is not parameter.empty]
    if len(flags) > 8:
        flags = [f"[flags: `{command} --help` lists them]"]
    return " ".join([command, *_positional_names(target), *flags])


def _normalize_flags(target: Callable[..., Any], words: list[str], rest: list[str]) -> list[str]:
    """Refuse unknown flags and stray words; make bare booleans explicit so they never swallow the next word.

    Only required parameters and *args are filled by position, so a stray word is an error instead
    of the value of whichever option comes next in the signature (fire's default).
    """
    parameters = inspect.signature(target).parameters
    names = {name for name, p in parameters.items() if p.kind is not inspect.Parameter.VAR_POSITIONAL}
    booleans = {name for name in names if isinstance(parameters[name].default, bool)}
    repeatable = {name for name in names if isinstance(parameters[name].default, tuple)}  # e.g. --source A --source B
    repeated: dict[str, list[str]] = {}
    command = " ".join(["halo-local", *words])
    result: list[str] = []
    positional: list[str] = []
    given: set[str] = set()
    switch_before: dict[int, str] = {}  # positional word number -> the bare boolean flag just before it
    bare_switch: str | None = None
    index = 0
    while index < len(rest):
        token = rest[index]
        index += 1
        if token in ("--help", "-h", "--"):
            return result + rest[index - 1:]
        if not token.startswith("-") or _is_number(token):
            if bare_switch:
                switch_before[len(positional)] = bare_switch
            positional.append(token)
            result.append(token)
            bare_switch = None
            continue
        flag, has_value, value = token.lstrip("-").partition("=")
        name = flag.replace("-", "_")
        if token.startswith("-") and not token.startswith("--"):
            matches = [candidate for candidate in names if candidate.startswith(name)]
            if len(matches) != 1:
                raise UsageError(f"unknown flag {token!r} for `{command}`", hint=f"`{command} --help` lists its flags")
            name = matches[0]
        if name not in names:
            close = difflib.get_close_matches(name, list(names), n=1)
            hint = f"did you mean --{close[0].replace('_', '-')}?" if close else f"`{command} --help` lists its flags"
            raise UsageError(f"unknown flag --{flag} for `{command}`", hint=hint)
        given.add(name)
        if name in booleans:
            if not has_value and index < len(rest) and rest[index].lower() in TRUE_WORDS | FALSE_WORDS:
                value, has_value = rest[index], True
                index += 1
            result.append(f"--{name}={parse_bool(value, '--' + flag) if has_value else True}")
            bare_switch = None if has_value else token
            continue
        bare_switch = None
        if not has_value:
            if index >= len(rest):
                raise UsageError(f"--{flag} needs a value")
            value = rest[index]
            index += 1
        if name in repeatable:
            repeated.setdefault(name, []).append(value)
            continue
        result.append(f"--{name}={value}")
    _check_positional(target, words, positional, given, switch_before)
    return result + [f"--{name}={json.dumps(values)}" for name, values in repeated.items()]


def _check_positional(target: Callable[..., Any], words: list[str], positional: list[str], given: set[str],
                      switch_before: dict[int, str]) -> None:
    """UsageError unless the bare words fill exactly the positional parameters not given as flags."""
    parameters = inspect.signature(target).parameters
    wanted = [name for name, p in parameters.items()
              if p.default is p.empty and p.kind is not p.VAR_POSITIONAL and name not in given]
    takes_any = any(p.kind is p.VAR_POSITIONAL for p in parameters.values())
    command, usage = " ".join(words), f"usage: {_usage(target, words)}"
    if len(positional) < len(wanted):
        missing = " and ".join(name.upper() for name in wanted[len(positional):])
        raise UsageError(f"{command} needs {missing}", hint=usage)
    if len(positional) > len(wanted) and not takes_any:
        extra = len(wanted)
        switch = switch_before.get(extra)
        hint = f"{switch} is a switch ({switch}=false turns it off); {usage}" if switch else usage
        raise UsageError(f"unexpected argument {positional[extra]!r} for `{command}`", hint=hint)


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _split_json_flag(args: list[str]) -> tuple[list[str], bool]:
    """Take `--json` (or `--json=true/false`) out of the arguments, wherever it stands."""
    wanted = False
    kept = []
    for token in args:
        if token == "--json":
            wanted = True
        elif token.startswith("--json="):
            wanted = parse_bool(token.split("=", 1)[1], "--json")
        else:
            kept.append(token)
    return kept, wanted


def _quote_values(args: list[str]) -> list[str]:
    """Make fire keep every value a string (`123` would become an int, `9,10` a tuple).

    Commands convert values themselves; only the explicit booleans made by `_normalize_flags` stay bare.
    """
    quoted = []
    for token in args:
        if token.startswith("--") and "=" in token:
            name, value = token.split("=", 1)
            if value not in ("True", "False"):
                token = f"{name}={json.dumps(value)}"
        elif not token.startswith("-"):
            token = json.dumps(token)
        quoted.append(token)
    return quoted


def _usage_output(component: Any, words: list[str]) -> Output:
    """What a bare `halo-local` or `halo-local GROUP` prints: its commands, one line each."""
    rows: list[tuple[str, str]] = []
    commands: list[str] = []
    for name, member in _commands_of(component).items():
        if inspect.ismethod(member):
            call = " ".join([name, *_positional_names(member)])
            rows.append((call, (member.__doc__ or "").strip().splitlines()[0]))
            commands.append(" ".join([*words, call]))
        else:
            rows.append((name, ", ".join(_commands_of(member))))
            commands += [" ".join([*words, name, sub, *_positional_names(method)])
                         for sub, method in _commands_of(member).items()]
    width = max(len(left) for left, _ in rows) + 2
    lines = [f"Usage: {' '.join(['halo-local', *words])} COMMAND [ARGS] [--json]", ""]
    lines += [f"  {left:<{width}}{right}" for left, right in rows]
    lines += ["", "`halo-local GROUP` lists a group's commands; `COMMAND --help` shows a command's flags." if not words
              else f"`halo-local {' '.join(words)} COMMAND --help` shows a command's flags."]
    return Output({"commands": commands}, "\n".join(lines))


def _version() -> str:
    try:
        return importlib.metadata.version("halo-local")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed)"


def run(args: Sequence[str]) -> Output | None:
    """Parse and run one command line (--json already taken out); returns its Output, None when fire showed help."""
    args = list(args)
    if args == ["--version"]:
        return Output({"version": _version()}, f"halo-local {_version()}")
    root = HaloLocalCli()
    target, words, index = _resolve_target(root, args)
    rest = args[index:]
    if inspect.ismethod(target):
        args = words + _quote_values(_normalize_flags(target, words, rest))
    elif not rest:
        return _usage_output(target, words)
    elif rest[0] not in ("--help", "-h"):
        where = " ".join(["halo-local", *words])
        raise UsageError(f"unknown flag {rest[0]!r} for `{where}`",
                         hint=f"`{where}` lists the commands; flags go after the command")
    os.environ.setdefault("PAGER", "cat")
    result = fire.Fire(root, command=args, name="halo-local", serialize=lambda _: None)
    return result if isinstance(result, Output) else None


def _error_document(message: str, hint: str | None, exit_code: int) -> str:
    """The one JSON document a failing command prints on stdout under --json."""
    document = json.dumps({"error": {"message": message, "hint": hint, "exitCode": exit_code}}, ensure_ascii=False)
    return untrusted.json_text(document)


def _print_error(json_mode: bool, exit_code: int, message: str, hint: str | None = None) -> int:
    """`Error: ...` (and `Hint: ...`) on stderr; with --json also the error document on stdout."""
    if json_mode:
        print(_error_document(message, hint, exit_code))
    print(f"Error: {untrusted.terminal_text(message)}", file=sys.stderr)
    if hint:
        print(f"Hint: {untrusted.terminal_text(hint)}", file=sys.stderr)
    return exit_code


def _is_interrupted_query(error: Exception) -> bool:
    """DuckDB turns a Ctrl-C that arrives during a query into RuntimeError('Query interrupted')."""
    return isinstance(error, RuntimeError) and str(error) == "Query interrupted"


def _interrupted(json_mode: bool) -> int:
    if json_mode:
        print(_error_document("interrupted", None, EXIT_INTERRUPTED))
    print("Interrupted.", file=sys.stderr)
    return EXIT_INTERRUPTED


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run, print one JSON document or human text on stdout, errors on stderr."""
    json_mode = False
    try:
        args, json_mode = _split_json_flag(list(sys.argv[1:] if argv is None else argv))
        JSON_MODE.set(json_mode)
        output = run(args)
    except HaloLocalError as error:
        return _print_error(json_mode, error.exit_code, error.message, error.hint)
    except fire.core.FireExit as done:
        if done.code and json_mode:  # fire has explained the problem on stderr already
            print(_error_document("the command line could not be parsed", None, int(done.code)))
        return int(done.code or 0)
    except KeyboardInterrupt:
        return _interrupted(json_mode)
    except Exception as error:
        if _is_interrupted_query(error):
            return _interrupted(json_mode)
        if os.environ.get("HALO_DEBUG"):
            raise
        named = environment_failure(error, Store().db_path)  # disk full, damaged database, ... met outside the store
        if named is not None:
            return _print_error(json_mode, named.exit_code, named.message, named.hint)
        where = "".join(f" ({note})" for note in getattr(error, "__notes__", []))
        return _print_error(json_mode, EXIT_ERROR, f"unexpected {type(error).__name__}: {error}{where}",
                            "this is a bug in halo-local; HALO_DEBUG=1 shows the traceback")
    if output is None:
        return EXIT_OK
    try:
        if json_mode:
            print(untrusted.json_text(json.dumps(output.data, ensure_ascii=False, default=str)))
        elif output.text:
            print(untrusted.terminal_text(output.text))
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader stopped early (`| head`): nothing is wrong, and nothing more can be written.
        # Point stdout at /dev/null so that Python's flush at exit does not complain either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_PIPE_CLOSED
    return output.exit_code


if __name__ == "__main__":
    sys.exit(main())
