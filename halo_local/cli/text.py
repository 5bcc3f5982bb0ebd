"""The human text of documents that several commands print (runs, schedules, empty tables)."""

from __future__ import annotations

import os
from typing import Any

from halo_local import render, runs, schedules, traces
from halo_local.cli.zone import shown_time
from halo_local.common.timestamps import iso
from halo_local.store import Store


def range_phrase(time_range: str) -> str:
    """`in the last 30d`, and `at any time` for all."""
    key = time_range.strip().lower()
    return "at any time" if key == "all" else f"in the last {key}"


def empty_range_message(store: Store, time_range: str) -> str:
    covered = traces.stored_range(store)
    if not covered["spanCount"]:
        return "No traces are stored yet. Load some with `halo-local traces load PATH`."
    stored = (f"Stored spans cover {shown_time(covered['firstSeenAt'])} .. "
              f"{shown_time(covered['lastSeenAt'])}")
    if time_range.strip().lower() == "all":
        return f"Nothing matches these filters. {stored}."
    return f"Nothing {range_phrase(time_range)}. {stored}; try --time-range all."


def run_text(run: runs.RunDocument) -> str:
    lines = [
        f"Run {run.run_id} {run.status}" + (f": {run.status_reason}" if run.status_reason else ""),
        f"Conversation: {run.conversation_id}",
        f"Agent: {run.agent_name or '-'} ({run.agent_uuid})",
        f"Window: {shown_time(run.window_start)} .. {shown_time(run.window_end)}",
    ]
    if run.status in ("queued", "running"):
        lines.append(f"Follow it: halo-local run poll {run.run_id}")
    elif run.status == "completed" or run.report_path:
        lines.append(f"Report: halo-local conversation get {run.conversation_id}")
    return "\n".join(lines)


def run_details_text(run: runs.RunDocument) -> str:
    dataset, llm_use, options, timings = run.trace_dataset, run.llm, run.options, run.timings
    if llm_use.ran:
        llm_line = (f"ran: {render.count(llm_use.input_tokens)} in / {render.count(llm_use.output_tokens)} out "
                    f"tokens, {render.usd(llm_use.cost_usd)}, {llm_use.turns} turns")
    elif llm_use.degraded:
        llm_line = f"failed, report is heuristics-only (degraded): {llm_use.error}"
    elif llm_use.skipped_reason:
        llm_line = f"skipped: {llm_use.skipped_reason}"
    elif run.status in runs.ACTIVE_STATES:
        llm_line = "pending"
    else:
        llm_line = "did not run"
    cut = " (cut by the span limit)" if dataset.truncated else ""
    dataset_line = "-"
    if dataset.spans is not None:
        dataset_line = (f"{render.count(dataset.spans)} spans in {render.count(dataset.traces)} traces{cut}"
                        f"; {render.count(dataset.spans_in_window)} spans in the window")
    snapshot = dataset.path if dataset.path and os.path.exists(dataset.path) else "-"
    findings_count = str(run.finding_count) if run.kind == "analysis" and dataset.spans is not None else "-"
    duration = timings.duration_seconds
    pairs = [
        ("Run", run.run_id), ("Kind", run.kind), ("Status", run.status),
        ("Reason", run.status_reason), ("Conversation", run.conversation_id),
        ("Agent", f"{run.agent_name or '-'} ({run.agent_uuid})"),
        ("Window", f"{shown_time(run.window_start)} .. {shown_time(run.window_end)}"),
        ("Source", run.source),
        ("Model", run.model_id),
        ("Options", f"span limit {options.span_limit:,}, max turns {options.max_turns}, max sub-agent depth "
                    f"{options.max_subagent_depth}, time limit {options.time_limit_seconds // 60} min"
                    + (", --no-llm" if options.no_llm else "")),
        ("Prompt", options.prompt),
        ("Created", shown_time(timings.created_at)), ("Started", shown_time(timings.started_at)),
        ("Finished", shown_time(timings.finished_at)),
        ("Duration", render.duration(duration * 1000 if duration is not None else None)),
        ("LLM pass", llm_line),
        ("Trace dataset", dataset_line),
        ("Snapshot", snapshot),
        ("Findings", findings_count),
    ]
    text = render.key_values(pairs)
    findings = run.findings or ()
    if findings:
        text += "\n\n" + render.table(
            [{"rank": rank, **item.to_json()} for rank, item in enumerate(findings, start=1)],
            [("rank", "#"), ("severity", "SEVERITY"), ("category", "CATEGORY"), ("subject", "SUBJECT"),
             ("title", "TITLE")],
        )
    return text


def schedule_text(schedule: schedules.Schedule, upcoming: int = 0) -> str:
    data, spec = schedule.to_json(), schedule.spec
    state = "archived" if data["archived"] else ("enabled" if spec.enabled else "paused (--enabled false)")
    paused = not spec.enabled and not data["archived"]
    next_run = shown_time(data["nextRunAt"], spec.timezone) if data["nextRunAt"] else None
    if paused:
        next_run = f"none while paused (`halo-local schedule update {data['scheduleId']} --enabled true` resumes it)"
    pairs = [
        ("Schedule", f"{data['scheduleId']}: {data['title']}"), ("Agent", data["agentUuid"]),
        ("Cadence", spec.describe()), ("State", state),
        ("Next run", next_run),
        ("Last fired", shown_time(data["lastFiredAt"], spec.timezone) if data["lastFiredAt"] else None),
        ("Runs", f"look back {spec.lookback_hours}h, span limit {spec.span_limit:,}, max turns {spec.max_turns}, "
                 f"max sub-agent depth {spec.max_subagent_depth}, model {spec.model_id or 'default'}"),
        ("Prompt", spec.prompt or "(default)"),
        ("Sources", (", ".join(spec.sources) + ("" if spec.skip_invalid else " (strict: --skip-invalid false)"))
         if spec.sources else None),
    ]
    text = render.key_values(pairs)
    if upcoming:
        times = schedule.upcoming(upcoming)
        heading = "Fire times once resumed:" if paused else "Next fire times:"
        text += f"\n\n{heading}" + "".join(f"\n  {shown_time(iso(at), spec.timezone)}" for at in times)
    notes = "".join(f"\nNote: {note}" for note in spec.notes())
    return text + notes


def schedule_document(schedule: schedules.Schedule, upcoming: int = 0) -> dict[str, Any]:
    document = schedule.to_json()
    if upcoming:
        document["nextRunTimes"] = [iso(at) for at in schedule.upcoming(upcoming)]
    return document
