"""Use cases that span packages: analyse trace files in one go, ask a follow-up, read a conversation
with its runs, fire a schedule's run after loading its sources.

This is the one module allowed to import ingest, runs and schedules together; the packages below it
never import each other upwards, and no function here imports anything late to hide an edge.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from halo_local import conversations, runs, schedules, traces
from halo_local.common.rows import rows_as_dicts
from halo_local.errors import NotFoundError, NoTracesError
from halo_local.resources import sql_text
from halo_local.runs.run_document import RunDocument
from halo_local.schedules import Fired, FireRun, LoadSources, Schedule
from halo_local.sources.clickhouse import ClickHouseSource
from halo_local.sources.named import resolve_source
from halo_local.sources.snapshot import store_selection
from halo_local.store import Store


@dataclass(frozen=True)
class Analyzed:
    """A finished `analyze`: the run (with its findings), its markdown report (None without one), the
    agents of the input that were not analysed (for a hint) and, per file, the records
    `--skip-invalid` left out (path, records, firstLine, reason)."""

    run: RunDocument
    report: str | None
    other_agents: list[dict[str, Any]]
    skipped: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        """The run's document plus `report`, `otherAgents` and `skipped`."""
        return {**self.run.to_json(), "report": self.report, "otherAgents": self.other_agents,
                "skipped": self.skipped}


@dataclass(frozen=True)
class FollowupAnswer:
    """A follow-up's run and the answer it added to the conversation (None when it wrote none)."""

    run: RunDocument
    answer: str | None

    def to_json(self) -> dict[str, Any]:
        """As `conversation ask --json` prints it."""
        return {"conversationId": self.run.conversation_id, "runId": self.run.run_id, "status": self.run.status,
                "statusReason": self.run.status_reason, "answer": self.answer, "run": self.run.to_json()}


def _report_text(run: RunDocument) -> str | None:
    return Path(run.report_path).read_text(encoding="utf-8") if run.report_path else None


def analyze_paths(
    store: Store,
    paths: Sequence[str | Path],
    *,
    agent_uuid: str | None = None,
    prompt: str | None = None,
    model_id: str | None = None,
    no_llm: bool = False,
    span_limit: int = runs.DEFAULT_SPAN_LIMIT,
    skip_invalid: bool = False,
    on_event: runs.OnEvent | None = None,
) -> Analyzed:
    """Load trace files and analyse their busiest agent (or `agent_uuid`) over the files' own time range."""
    from halo_local.ingest import load_paths  # pyarrow: not at CLI start-up

    summary = load_paths(store, paths, skip_invalid=skip_invalid)
    with store.connect() as connection:
        cursor = connection.execute(sql_text("runs/agents_in_files.sql"), summary.file_keys())
        agents = rows_as_dicts(cursor)
    if not agents:
        raise NoTracesError("the files hold no spans to analyse",
                            hint="`halo-local traces load PATH --json` shows what each file held")
    chosen = agents[0]
    if agent_uuid is not None:
        in_files = [{"agentUuid": item["agentUuid"], "name": item["agentName"], "serviceName": item["serviceName"]}
                    for item in agents]
        try:
            wanted = traces.resolve_agent(in_files, agent_uuid)["agentUuid"]
        except NotFoundError:
            traces.find_agent(store, agent_uuid)  # not stored at all: the usual "no agent" error
            raise NotFoundError(f"agent {agent_uuid!r} has no spans in these files",
                                hint=traces.closest_agents_hint(in_files, str(agent_uuid))) from None
        chosen = next(item for item in agents if item["agentUuid"] == wanted)
    start = datetime.fromisoformat(chosen["firstStart"][:-1]).replace(microsecond=0)
    end = datetime.fromisoformat(chosen["lastStart"][:-1]).replace(microsecond=0) + timedelta(seconds=1)
    run = runs.create_run(store, agent_uuid=chosen["agentUuid"], prompt=prompt, window_start_at=start,
                          window_end_at=end, model_id=model_id, no_llm=no_llm, span_limit=span_limit,
                          wait=True, on_event=on_event)
    finished = runs.get_run(store, run.run_id)
    others = [{"agentUuid": item["agentUuid"], "name": item["agentName"], "spans": item["spans"]}
              for item in agents if item["agentUuid"] != chosen["agentUuid"]]
    return Analyzed(finished, _report_text(finished), others, summary.skipped_records())


def source_agent(source: ClickHouseSource, agent: str) -> str:
    """The uuid of the source's agent `agent` names: a full UUID as it is (the cluster filters by it, so
    no agent discovery is needed), else the one agent with that name."""
    wanted = str(agent).strip()
    try:
        return str(uuid.UUID(wanted))
    except ValueError:
        return str(traces.resolve_agent(source.agents(None), wanted)["agentUuid"])


def create_source_run(
    store: Store,
    source: ClickHouseSource,
    *,
    agent_uuid: str,
    window_start_at: str | datetime | None = None,
    window_end_at: str | datetime | None = None,
    lookback_hours: int | None = None,
    span_limit: int = runs.DEFAULT_SPAN_LIMIT,
    now: datetime | None = None,
    **run_options: Any,
) -> RunDocument:
    """A run over a ClickHouse source: the cluster counts the window's overview (one query, priced there)
    and selects the window and the previous one, for the comparison (one more); the selection is
    normalized into the local store and the run analyses it there like local spans, recording the
    (redacted) source and the window-wide overview."""
    start, end = runs.resolve_window(window_start_at, window_end_at, lookback_hours, now)
    limit = runs.RunOptions.BOUNDS["span_limit"].check(span_limit)
    wanted = source_agent(source, agent_uuid)
    overview = source.overview(wanted, start, end)
    if not overview["totals"]["spans"]:
        raise NoTracesError(f"{source.url.redacted()} holds no spans of agent {agent_uuid} between "
                            f"{start.isoformat()}Z and {end.isoformat()}Z",
                            hint="`halo-local agent list --source SOURCE` shows its agents and when they ran")
    store_selection(store, source.selection(wanted, start, end, span_limit=limit, with_previous=True),
                    source=str(source.url))
    return runs.create_run(store, agent_uuid=wanted, window_start_at=start, window_end_at=end,
                           span_limit=limit, now=now, source=source.url.redacted(), source_overview=overview,
                           **run_options)


def analyze_source(
    store: Store,
    source: ClickHouseSource,
    *,
    agent_uuid: str | None = None,
    time_range: str = "all",
    span_limit: int = runs.DEFAULT_SPAN_LIMIT,
    **run_options: Any,
) -> Analyzed:
    """`analyze --source`: the source's busiest agent in the time range (or `agent_uuid`) over its own span
    range, run here to the end; the same document as `analyze_paths` (no otherAgents hint beyond the source's)."""
    agents = source.agents(traces.since_for(time_range, flag="--agent-time-range"))
    if not agents:
        raise NoTracesError(f"{source.url.redacted()} holds no spans in that time range",
                            hint="widen --agent-time-range (e.g. all)")
    chosen = (traces.resolve_agent(agents, agent_uuid) if agent_uuid is not None
              else max(agents, key=lambda item: (item["spanCount"], item["agentUuid"])))
    start = datetime.fromisoformat(chosen["firstSeenAt"][:-1]).replace(microsecond=0)
    end = datetime.fromisoformat(chosen["lastSeenAt"][:-1]).replace(microsecond=0) + timedelta(seconds=1)
    run = create_source_run(store, source, agent_uuid=chosen["agentUuid"], window_start_at=start,
                            window_end_at=end, span_limit=span_limit, wait=True, **run_options)
    finished = runs.get_run(store, run.run_id)
    others = [{"agentUuid": item["agentUuid"], "name": item["name"], "spans": item["spanCount"]}
              for item in agents if item["agentUuid"] != chosen["agentUuid"]]
    return Analyzed(finished, _report_text(finished), others, [])


def ask(
    store: Store,
    conversation_id: str,
    question: str,
    *,
    no_llm: bool = False,
    model_id: str | None = None,
    on_event: runs.OnEvent | None = None,
) -> FollowupAnswer:
    """Ask a follow-up: a new run of the conversation answers it here, and its answer is returned.

    With the LLM available the model answers from the report, the findings and the run's snapshot;
    without it (no key, --no-llm, or the LLM failing) the answer quotes the matching findings.
    """
    with store.held_open():
        run_id = runs.create_followup_run(store, str(conversation_id).strip(), question, no_llm=no_llm,
                                          model_id=model_id)
    runs.execute_run(store, run_id, on_event=on_event)
    with store.held_open():
        return FollowupAnswer(runs.get_run(store, run_id, include_findings=False),
                              conversations.answer_of(store, run_id))


def list_conversations(store: Store, *, limit: int = 50) -> list[dict[str, Any]]:
    """Conversations newest first, each with its message count and its analysis run's (reaped) status."""
    with store.held_open():
        runs.reap_stale_runs(store)
        return conversations.list_conversations(store, limit=limit)


def latest_conversation_id(store: Store, agent: str | None) -> str:
    """The newest conversation's id, of `agent` (UUID or unique name) when given, for `conversation get --latest`."""
    with store.held_open():
        found = traces.find_agent(store, agent) if agent is not None else None
        conversation_id = conversations.latest_conversation_id(store, found["agentUuid"] if found else None)
    if conversation_id is None:
        whose = f" of agent {traces.describe_agent(found)}" if found else ""
        raise NotFoundError(f"no conversation{whose} yet", hint="`halo-local run create` starts one")
    return conversation_id


def get_conversation(store: Store, conversation_id: str) -> dict[str, Any]:
    """Every message (role, content) in order, plus the analysis run and its trace dataset.

    The `conversation get --json` document mirrors the hosted product's payload, so
    `jq -r '.messages | map(select(.role == "assistant"))[0].content'` extracts the report.
    """
    wanted = str(conversation_id).strip()
    with store.held_open():  # five quick reads: one opening of the database instead of one each
        runs.reap_stale_runs(store)
        conversation = conversations.conversation_with_messages(store, wanted)
        conversation_runs = list(reversed(runs.list_runs(store, limit=10_000, conversation_id=wanted)))
        analysis = next((item for item in conversation_runs if item.kind == "analysis"), None)
        run = runs.get_run(store, analysis.run_id) if analysis else None
    run_json = run.to_json() if run else None
    return {
        **conversation,
        "run": run_json,
        "runs": [item.to_json() for item in conversation_runs],
        "traceDataset": run_json["traceDataset"] if run_json else None,
    }


def start_scheduled_run(store: Store) -> FireRun:
    """The real FireRun: a detached analysis run of the schedule's agent whose window ends at the slot."""

    def fire(schedule: Schedule, slot: datetime) -> str:
        spec = schedule.spec
        options: dict[str, Any] = {
            "agent_uuid": spec.agent_uuid, "prompt": spec.prompt, "window_end_at": slot,
            "lookback_hours": spec.lookback_hours, "model_id": spec.model_id, "span_limit": spec.span_limit,
            "max_subagent_depth": spec.max_subagent_depth, "max_turns": spec.max_turns,
            "schedule_id": schedule.schedule_id,
        }
        remote = schedules.remote_sources(store, spec.sources)
        if remote:
            run = create_source_run(store, resolve_source(store, remote[0]), **options)
        else:
            run = runs.create_run(store, **options)
        return run.run_id

    return fire


def load_trace_sources(store: Store) -> LoadSources:
    """The real LoadSources: `traces load` of the paths, with the schedule's skip-invalid choice."""

    def load(sources: Sequence[str], skip_invalid: bool) -> list[str]:
        return schedules.load_sources(store, sources, skip_invalid=skip_invalid)

    return load


def tick_schedules(store: Store, now: datetime) -> list[Fired]:
    """`schedule tick`: fire every due schedule, loading its sources and starting its run."""
    return schedules.tick(store, now, start_scheduled_run(store), load_trace_sources(store))
