"""A run's life from the outside: create it (an analysis or a follow-up), wait for it, cancel it."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from datetime import datetime
from typing import Any

from halo_local import conversations, heuristics, llm, traces
from halo_local.common.rows import stored_rows
from halo_local.common.timestamps import iso, utc_now
from halo_local.errors import NotFoundError, UsageError
from halo_local.resources import sql_template, sql_text
from halo_local.runs import worker
from halo_local.runs.documents import get_run, run_events
from halo_local.runs.options import DEFAULT_CANCEL_REASON, DEFAULTS, RunOptions, resolve_window
from halo_local.runs.pipeline import execute_run
from halo_local.runs.rows import (
    ACTIVE_STATES,
    CANCEL_FILE,
    SOURCE_OVERVIEW_FILE,
    TERMINAL_STATES,
    RunRecord,
    finish,
    insert_event,
    insert_run,
    new_run_id,
    writing,
)
from halo_local.runs.run_document import OnEvent, RunDocument
from halo_local.store import Store


def create_run(
    store: Store,
    *,
    agent_uuid: str,
    prompt: str | None = None,
    window_start_at: str | datetime | None = None,
    window_end_at: str | datetime | None = None,
    lookback_hours: int | None = None,
    model_id: str | None = None,
    span_limit: int = DEFAULTS.span_limit,
    max_subagent_depth: int = DEFAULTS.max_subagent_depth,
    max_turns: int = DEFAULTS.max_turns,
    no_llm: bool = False,
    time_limit_seconds: int = DEFAULTS.time_limit_seconds,
    thresholds: Mapping[str, Any] | None = None,
    wait: bool = False,
    schedule_id: str | None = None,
    now: datetime | None = None,
    on_event: OnEvent | None = None,
    source: str | None = None,
    source_overview: Mapping[str, Any] | None = None,
) -> RunDocument:
    """Validate every option, record the run as queued with its conversation, then start it.

    Without `wait` a detached worker process runs it and this returns at once (status `queued`);
    with `wait` it runs here and this returns when it has ended. `on_event` sees each event of a
    foreground run as it is recorded. `thresholds` overrides heuristics thresholds for this run only
    (over the defaults and `$HALO_HOME/heuristics.toml`). `source` (a redacted ClickHouse URL) records
    where the window's spans were fetched from, `source_overview` the cluster's window-wide overview.
    """
    window_start, window_end = resolve_window(window_start_at, window_end_at, lookback_hours, now)
    options = RunOptions(prompt=prompt, model_id=model_id, no_llm=no_llm, lookback_hours=lookback_hours,
                         span_limit=span_limit, max_subagent_depth=max_subagent_depth, max_turns=max_turns,
                         time_limit_seconds=time_limit_seconds)
    heuristics.load_thresholds(store.home, thresholds)
    text = options.prompt_text
    resolved_model = llm.resolve_model_id(options.model_id)
    with ExitStack() as opened:
        opened.enter_context(store.held_open())  # the agent's lookup and the run's rows: one opening of the database
        agent = traces.find_agent(store, agent_uuid)
        created_at = now or utc_now()
        run_id, conversation_id = new_run_id(), conversations.new_conversation_id()
        if source_overview is not None:
            run_dir = store.runs_dir / run_id
            run_dir.mkdir(parents=True, exist_ok=True)
            (run_dir / SOURCE_OVERVIEW_FILE).write_text(json.dumps(dict(source_overview), default=str), encoding="utf-8")
        title = f"{agent['name'] or agent['agentUuid']}: {_short(window_start)} .. {_short(window_end)} UTC"
        with writing(store) as connection:
            conversations.insert_conversation(connection, conversation_id=conversation_id, title=title,
                                              agent_uuid=agent["agentUuid"], agent_name=agent["name"],
                                              created_at=created_at)
            insert_run(connection, store, {
                "run_id": run_id, "conversation_id": conversation_id, "kind": "analysis", "parent_run_id": None,
                "schedule_id": schedule_id, "agent_uuid": agent["agentUuid"], "agent_name": agent["name"],
                "prompt": text, "window_start": window_start, "window_end": window_end, "model_id": resolved_model,
                "no_llm": options.no_llm, "span_limit": options.span_limit,
                "max_subagent_depth": options.max_subagent_depth, "max_turns": options.max_turns,
                "time_limit_seconds": options.time_limit_seconds, "created_at": created_at,
                "thresholds": json.dumps(dict(thresholds)) if thresholds else None,
                "llm_skip_reason": llm.llm_skip_reason(options.no_llm), "source": source,
            })
            conversations.add_message(connection, conversation_id, "user", text, run_id, created_at)
            insert_event(connection, run_id, "queued", f"queued: analyse {agent['name'] or agent['agentUuid']} "
                         f"from {iso(window_start)} to {iso(window_end)}", {"wait": bool(wait)}, created_at)
        if wait:  # the run takes over this opening of the database: no closing and reopening in between
            execute_run(store, run_id, on_event=on_event, release=opened.close)
    if not wait:
        worker.start_worker(store, run_id)
    return get_run(store, run_id, include_findings=False)


def create_followup_run(store: Store, conversation_id: str, question: str, *, no_llm: bool = False,
                        model_id: str | None = None) -> str:
    """Record a follow-up question as a queued run of the conversation (and its user message)."""
    text = str(question).strip()
    if not text:
        raise UsageError("the question is empty", hint='conversation ask CONV_ID "what should I fix first?"')
    analysis = _analysis_run_of(store, conversation_id)
    if analysis.status in ACTIVE_STATES:
        raise UsageError(
            f"the conversation's analysis run {analysis.run_id} is still {analysis.status}",
            hint=f"wait for it with `halo-local run poll {analysis.run_id}`",
        )
    if analysis.status != "completed" and analysis.report_path is None:
        raise UsageError(
            f"the conversation's analysis run {analysis.run_id} ended {analysis.status}: "
            f"{analysis.status_reason}",
            hint="there is no report to ask about; start a new analysis with `halo-local run create`",
        )
    resolved_model = llm.resolve_model_id(model_id if model_id is not None else analysis.model_id)
    run_id = new_run_id()
    created_at = utc_now()
    with writing(store) as connection:
        insert_run(connection, store, {
            "run_id": run_id, "conversation_id": conversation_id, "kind": "followup",
            "parent_run_id": analysis.run_id, "schedule_id": None, "agent_uuid": analysis.agent_uuid,
            "agent_name": analysis.agent_name, "prompt": text, "window_start": analysis.window_start,
            "window_end": analysis.window_end, "model_id": resolved_model, "no_llm": bool(no_llm),
            "span_limit": analysis.span_limit, "max_subagent_depth": analysis.max_subagent_depth,
            "max_turns": analysis.max_turns, "time_limit_seconds": analysis.time_limit_seconds,
            "thresholds": None, "created_at": created_at, "llm_skip_reason": llm.llm_skip_reason(bool(no_llm)),
        })
        conversations.add_message(connection, conversation_id, "user", text, run_id, created_at)
        insert_event(connection, run_id, "queued", f"queued: follow-up question on {analysis.run_id}",
                     {"parentRunId": analysis.run_id}, created_at)
    return run_id


def _analysis_run_of(store: Store, conversation_id: str) -> RunRecord:
    with store.connect() as connection:
        rows = stored_rows(connection.execute(sql_template("runs/analysis_run_of.sql"),
                                              {"conversation_id": str(conversation_id)}))
    if not rows:
        raise NotFoundError(f"no conversation with id {conversation_id!r}",
                            hint="`halo-local conversation list` lists conversations")
    return RunRecord.from_row(rows[0])


def _short(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def poll_run(
    store: Store,
    run_id: str,
    *,
    interval: float = 5.0,
    timeout: float = 1800.0,
    on_event: OnEvent | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[RunDocument, bool]:
    """Wait for a terminal state; returns (run, True) if `timeout` seconds passed first.

    `on_event` sees each new event once, in order, so a caller can show progress.
    """
    deadline = clock() + timeout
    seen = 0
    while True:
        run = get_run(store, run_id)
        if on_event is not None:
            for event in run_events(store, run_id, limit=10_000, after_seq=seen):
                seen = event.seq or seen
                on_event(event)
        if run.status in TERMINAL_STATES:
            return run, False
        remaining = deadline - clock()
        if remaining <= 0:
            return run, True
        sleep(min(interval, remaining))


def cancel_run(
    store: Store,
    run_id: str,
    *,
    reason: str = DEFAULT_CANCEL_REASON,
    wait_seconds: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[RunDocument, bool]:
    """Ask a run to stop: recorded in the database and as a flag file the worker watches.

    A queued run is cancelled at once; a running one within a few seconds (also mid LLM call).
    Waits up to `wait_seconds` for the worker to confirm. Returns the run and whether a cancel was
    requested: False when the run had already ended (nothing was cancelled), else True.
    """
    text = str(reason).strip() or DEFAULT_CANCEL_REASON
    run = get_run(store, run_id, include_findings=False)
    if run.status in TERMINAL_STATES:
        return run, False
    at = utc_now()
    with writing(store) as connection:
        connection.execute(sql_text("runs/request_cancel.sql"), {"at": at, "reason": text, "run_id": run.run_id})
        insert_event(connection, run.run_id, "cancel_requested", f"cancel requested: {text}",
                     {"reason": text, "pid": os.getpid()}, at)
        status = connection.execute(sql_text("runs/status.sql"), {"run_id": run.run_id}).fetchall()[0][0]
        if status == "queued":
            finish(connection, run.run_id, "cancelled", text, at)
    # The flag follows the recorded request, so that a worker which stops on it logs `cancelled` after
    # `cancel_requested`, never before.
    flag = store.runs_dir / run.run_id / CANCEL_FILE
    flag.parent.mkdir(parents=True, exist_ok=True)
    flag.write_text(text, encoding="utf-8")
    deadline = time.monotonic() + wait_seconds
    while True:
        run = get_run(store, run_id, include_findings=False)
        if run.status in TERMINAL_STATES or time.monotonic() >= deadline:
            return run, True
        sleep(0.25)
