"""`run create|poll|get|events|traces|cancel|list`: analysis runs."""

from __future__ import annotations

import sys
import webbrowser
from typing import Any

from halo_local import render, runs, traces, untrusted, usecases, verdicts
from halo_local.cli.help import real_defaults
from halo_local.cli.output import EXIT_OK, JSON_MODE, Output, default_store, print_event
from halo_local.cli.text import range_phrase, run_details_text, run_text
from halo_local.cli.zone import shown_time
from halo_local.errors import UsageError
from halo_local.flags import parse_assignments, parse_bool, parse_int, parse_text
from halo_local.ids import full_id
from halo_local.llm.models import default_model_id
from halo_local.sources.named import resolve_source
from halo_local.store import Store


def _as_seconds(value: Any, flag: str, *, minimum: float) -> float:
    try:
        number = float(str(value).strip())
    except ValueError:
        raise UsageError(f"{flag} takes a number of seconds; got {value!r}") from None
    if number < minimum:
        raise UsageError(f"{flag} must be at least {minimum:g}; got {number:g}")
    return number


def _pick_agent(store: Store, time_range: str) -> str:
    """On a terminal, a numbered list of recent agents to choose from; otherwise --agent-uuid is required."""
    if JSON_MODE.get() or not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise UsageError("--agent-uuid is required without a terminal or with --json",
                         hint="`halo-local agent list --time-range all` shows the agent UUIDs")
    agents = traces.list_agents(store, time_range=time_range)
    if not agents:
        raise UsageError(f"no agent has spans {range_phrase(time_range)}",
                         hint="widen --agent-time-range (e.g. all), or load traces with `halo-local traces load PATH`")
    sys.stderr.write(f"Agents active {range_phrase(time_range)}:\n")
    sys.stderr.write(agent_picker_table(agents) + "\n")  # render.table makes each cell safe for a terminal
    return str(agents[_ask_number(len(agents)) - 1]["agentUuid"])


def agent_picker_table(agents: list[dict[str, Any]]) -> str:
    """The numbered agents as aligned columns: number, name, service, UUID, traces, last seen."""
    rows = [{"number": f"{number}.", "name": agent["name"] or "-", "service": agent.get("serviceName") or "-",
             "agentUuid": agent["agentUuid"],
             "traces": f"{agent['traceCount']:,} trace{'' if agent['traceCount'] == 1 else 's'}",
             "lastSeen": shown_time(agent["lastSeenAt"])} for number, agent in enumerate(agents, start=1)]
    return render.table(rows, [("number", "#"), ("name", "NAME"), ("service", "SERVICE"), ("agentUuid", "AGENT UUID"),
                               ("traces", "TRACES"), ("lastSeen", "LAST SEEN")])


def _ask_number(count: int) -> int:
    """Ask until the answer is a number from 1 to `count` (Enter: 1); end of input gives up."""
    while True:
        sys.stderr.write(f"Agent number [1-{count}, default 1]: ")
        sys.stderr.flush()
        line = sys.stdin.readline()
        if not line:
            raise UsageError("no agent chosen (end of input)", hint="pass --agent-uuid")
        answer = line.strip() or "1"
        if answer.isdigit() and 1 <= int(answer) <= count:
            return int(answer)
        sys.stderr.write(untrusted.terminal_line(f"{answer!r} is not a number from 1 to {count}; try again.") + "\n")


def _run_id(given: str) -> str:
    return full_id(default_store(), "run", given)


class RunCommands:
    """Analysis runs: create one, follow it, read its results, cancel it."""

    @real_defaults(agent_uuid="pick one on a terminal", prompt="the built-in analysis prompt",
                   window_start_at="--window-end-at minus --lookback-hours", window_end_at="now",
                   lookback_hours=runs.DEFAULT_LOOKBACK_HOURS, model_id=default_model_id())
    def create(self, agent_uuid: str | None = None, prompt: str | None = None, window_start_at: str | None = None,
               window_end_at: str | None = None, lookback_hours: int | None = None,
               model_id: str | None = None, span_limit: int = runs.DEFAULTS.span_limit,
               max_subagent_depth: int = runs.DEFAULTS.max_subagent_depth, max_turns: int = runs.DEFAULTS.max_turns,
               agent_time_range: str = "30d", time_limit_minutes: int = runs.DEFAULTS.time_limit_seconds // 60,
               thresholds: str | None = None, no_llm: bool = False, wait: bool = False,
               source: str | None = None) -> Output:
        """Analyse one agent's spans in a window; returns at once unless --wait (then exits like `run poll`).

        The window ends at --window-end-at (default now) and starts at --window-start-at (default end
        minus --lookback-hours). Without --agent-uuid on a terminal, pick from the agents active in
        --agent-time-range. --no-llm gives a heuristics-only report. --thresholds overrides heuristics
        thresholds for this run (`loop_min_repeats=4,latency_outlier_mad=4` or a JSON object). --wait shows
        progress on stderr only when it is a terminal, as `analyze` does. --source (a ClickHouse URL or
        `sources add` name; --agent-uuid required) has the cluster select the window instead of the local store.
        """
        bounds = runs.RunOptions.BOUNDS
        options: dict[str, Any] = {
            "lookback_hours": None if lookback_hours is None else bounds["lookback_hours"].check(lookback_hours),
            "span_limit": bounds["span_limit"].check(span_limit),
            "max_subagent_depth": bounds["max_subagent_depth"].check(max_subagent_depth),
            "max_turns": bounds["max_turns"].check(max_turns),
            "time_limit_seconds": 60 * parse_int(time_limit_minutes, "--time-limit-minutes", 1),
            "no_llm": parse_bool(no_llm, "--no-llm"),
            "thresholds": parse_assignments(thresholds, "--thresholds"),
        }
        waiting = parse_bool(wait, "--wait")
        runs.resolve_window(parse_text(window_start_at), parse_text(window_end_at), options["lookback_hours"])
        store = default_store()
        chosen = parse_text(agent_uuid)
        if source is not None:
            if chosen is None:
                raise UsageError("--agent-uuid is required with --source",
                                 hint="`halo-local agent list --source SOURCE --time-range all` shows the agent UUIDs")
            run = usecases.create_source_run(
                store, resolve_source(store, str(parse_text(source))), agent_uuid=chosen, prompt=parse_text(prompt),
                window_start_at=parse_text(window_start_at), window_end_at=parse_text(window_end_at),
                model_id=parse_text(model_id), wait=waiting,
                on_event=print_event if waiting and sys.stderr.isatty() else None, **options,
            )
            exit_code = runs.POLL_EXIT_CODES.get(run.status, EXIT_OK) if waiting else EXIT_OK
            return Output(run.to_json(), run_text(run), exit_code)
        if chosen is None:
            traces.since_for(str(agent_time_range), flag="--agent-time-range")
            chosen = _pick_agent(store, str(agent_time_range))
        run = runs.create_run(
            store, agent_uuid=chosen, prompt=parse_text(prompt), window_start_at=parse_text(window_start_at),
            window_end_at=parse_text(window_end_at), model_id=parse_text(model_id), wait=waiting,
            on_event=print_event if waiting and sys.stderr.isatty() else None, **options,
        )
        exit_code = runs.POLL_EXIT_CODES.get(run.status, EXIT_OK) if waiting else EXIT_OK
        return Output(run.to_json(), run_text(run), exit_code)

    def poll(self, run_id: str, interval: float = 5, timeout: float = 1800) -> Output:
        """Wait until the run ends, printing its events on stderr.

        Exit codes: 0 completed, 3 failed, 4 cancelled, 5 timed_out, 6 no_traces, 7 --timeout reached first.
        """
        run, timed_out = runs.poll_run(
            default_store(), _run_id(run_id), interval=_as_seconds(interval, "--interval", minimum=0.05),
            timeout=_as_seconds(timeout, "--timeout", minimum=0), on_event=print_event,
        )
        exit_code = runs.POLL_TIMEOUT_EXIT_CODE if timed_out else runs.POLL_EXIT_CODES[run.status]
        text = run_text(run)
        if timed_out:
            text += f"\nStill {run.status} after {timeout}s; poll again or cancel it with `halo-local run cancel {run.run_id}`"
        return Output(run.to_json(), text, exit_code)

    def get(self, run_id: str) -> Output:
        """A run's metadata: status, agent, window, model, options, timings, LLM usage, trace dataset, findings."""
        with default_store().held_open():  # the id's lookup and the run: one opening of the database
            run = runs.get_run(default_store(), _run_id(run_id))
        return Output(run.to_json(), run_details_text(run))

    def events(self, run_id: str, limit: int = 100) -> Output:
        """The run's timeline (latest --limit events, oldest first): steps, LLM turns, tool calls, outcome."""
        with default_store().held_open():  # the id's lookup and the events: one opening of the database
            rows = [event.to_json() for event in runs.run_events(default_store(), _run_id(run_id),
                                                                 limit=parse_int(limit, "--limit", 1))]
        text = render.table(rows, [("seq", "#"), ("at", "AT", shown_time), ("kind", "KIND"),
                                   ("message", "MESSAGE")])
        return Output(rows, text)

    def traces(self, run_id: str, flagged: bool = False, limit: int = 100) -> Output:
        """The window's traces ranked by how likely they failed, with the findings that flag each.

        --flagged keeps the traces that ended badly (failed root, hand-off, give-up, cut short) or
        that a finding singles out (one covering every trace does not); --limit caps the rows (default 100).
        """
        run = runs.get_run(default_store(), _run_id(run_id))
        document = verdicts.list_verdicts(default_store(), run, flagged=parse_bool(flagged, "--flagged"),
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
        run, requested = runs.cancel_run(default_store(), _run_id(run_id), reason=str(reason))
        text = run_text(run)
        if run.status in ("queued", "running"):
            text += "\nCancel requested; the worker has not confirmed yet."
        elif not requested:
            text = f"Nothing to cancel: run {run.run_id} had already ended {run.status}.\n" + text
        return Output({**run.to_json(), "cancelRequested": requested}, text)

    def report(self, run_id: str, open: bool = False) -> Output:  # noqa: A002 - the flag is --open
        """The path of the run's report.html (written first when missing); --open shows it in the system browser."""
        run_id = _run_id(run_id)
        path = runs.report_html(default_store(), run_id)
        opened = parse_bool(open, "--open") and webbrowser.open(path.as_uri())
        return Output({"runId": run_id, "path": str(path), "opened": bool(opened)}, str(path))

    def list(self, limit: int = 50) -> Output:
        """Runs newest first."""
        rows = [run.to_json() for run in runs.list_runs(default_store(), limit=parse_int(limit, "--limit", 1))]
        table_rows = [{**row, "createdAt": row["timings"]["createdAt"]} for row in rows]
        text = render.table(
            table_rows,
            [("runId", "RUN ID"), ("kind", "KIND"), ("status", "STATUS"), ("agentName", "AGENT"),
             ("createdAt", "CREATED", shown_time), ("findingCount", "FINDINGS"),
             ("conversationId", "CONVERSATION")],
            empty="No runs yet. Start one with `halo-local run create --agent-uuid UUID`.",
        )
        return Output(rows, text)
