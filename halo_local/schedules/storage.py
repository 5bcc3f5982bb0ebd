"""Stored schedules: create, read, update, archive; a write checks the agent and sources first."""

from __future__ import annotations

import secrets
import tempfile
from dataclasses import replace
from datetime import datetime
from typing import Any

import duckdb

from halo_local import traces
from halo_local.common.timestamps import as_aware_utc, as_naive_utc, utc_now
from halo_local.errors import HaloLocalError, NotFoundError, UsageError
from halo_local.flags import parse_int
from halo_local.resources import sql_text
from halo_local.schedules.cadence import next_fire_times
from halo_local.schedules.records import (
    Schedule,
    ScheduleChanges,
    ScheduleFire,
    ScheduleSpec,
    due_slot,
    list_or_none,
    tuple_or_none,
)
from halo_local.schedules.sources import load_sources, remote_sources
from halo_local.sources.named import resolve_source
from halo_local.store import Store


def create_schedule(store: Store, spec: ScheduleSpec, *, now: datetime | None = None) -> Schedule:
    """Store a new schedule; its first fire time is the first slot after `now`.

    Its agent and sources are checked first (`checked_targets`), so that a typo is refused now rather
    than failing every fire.
    """
    spec = checked_targets(store, spec.validated())
    moment = as_aware_utc(now or utc_now())
    schedule_id = "sch_" + secrets.token_hex(6)
    with store.transaction() as connection:  # read back in the same opening of the database
        connection.execute(sql_text("schedules/insert_schedule.sql"),
                           {"schedule_id": schedule_id, "now": as_naive_utc(moment), **_spec_parameters(spec)})
        return _fetch_one(connection, schedule_id, moment)


def checked_targets(store: Store, spec: ScheduleSpec) -> ScheduleSpec:
    """`spec` with its agent as a UUID, once its sources and agent are known to exist (UsageError if not).

    Every source must match a trace file now, as `traces load` requires. The agent (a UUID, or a name
    only one agent has) must be stored, or else appear in the sources: each run loads them first, so an
    agent that only they hold yet is accepted once a read of them into a scratch database (nothing is
    stored) finds it.
    """
    with store.held_open():  # two quick reads, one opening of the database
        remote = remote_sources(store, spec.sources)
        stored = [] if remote else traces.list_agents(store, time_range="all")
    if len(remote) > 1:
        raise UsageError(f"a schedule reads at most one ClickHouse source; got {', '.join(remote)}")
    from halo_local.ingest.readers import expand_paths  # pyarrow: not at CLI start-up

    for source in spec.sources:
        if source in remote:
            continue
        try:
            expand_paths([source])
        except HaloLocalError as error:
            raise UsageError(error.message, hint=error.hint) from None
    if remote:  # its runs read the agent's window from the cluster: the agent must be there
        try:
            found = traces.resolve_agent(resolve_source(store, remote[0]).agents(None), spec.agent_uuid)
        except NotFoundError as error:
            raise UsageError(f"{error.message} in {remote[0]}", hint=error.hint) from None
        return replace(spec, agent_uuid=found["agentUuid"])
    try:
        return replace(spec, agent_uuid=traces.resolve_agent(stored, spec.agent_uuid)["agentUuid"])
    except NotFoundError:
        if not spec.sources:
            raise  # the agent-not-found error of every command (exit 1), not a usage error
    stored_uuids = {agent["agentUuid"] for agent in stored}
    in_sources = [agent for agent in _agents_in_sources(store, spec) if agent["agentUuid"] not in stored_uuids]
    return replace(spec, agent_uuid=traces.resolve_agent(stored + in_sources, spec.agent_uuid)["agentUuid"])


def _agents_in_sources(store: Store, spec: ScheduleSpec) -> list[dict[str, Any]]:
    """The agents the schedule's sources hold, read as its runs would read them, into a throwaway store."""
    store.home.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="schedule-check-", dir=store.home) as scratch_home:
        scratch = Store(scratch_home)
        load_sources(scratch, spec.sources, skip_invalid=spec.skip_invalid)
        return traces.list_agents(scratch, time_range="all")


def get_schedule(store: Store, schedule_id: str, *, now: datetime | None = None) -> Schedule:
    """One schedule, archived or not; NotFoundError if there is none with that id."""
    with store.connect() as connection:
        return _fetch_one(connection, str(schedule_id), as_aware_utc(now or utc_now()))


def list_schedules(store: Store, include_archived: bool = False, *, now: datetime | None = None) -> list[Schedule]:
    """Schedules oldest first; archived ones only when asked."""
    with store.connect() as connection:
        return _fetch(connection, None, include_archived, as_aware_utc(now or utc_now()))


def update_schedule(store: Store, schedule_id: str, changes: ScheduleChanges, *,
                    now: datetime | None = None) -> Schedule:
    """Apply `changes`; a changed cadence or a re-enable drops the slots that passed before `now`."""
    if changes.is_empty():
        raise UsageError("schedule update needs at least one flag to change",
                         hint="`halo-local schedule update --help` lists the flags")
    moment = as_aware_utc(now or utc_now())
    resolved_agent: str | None = None
    if changes.agent_uuid is not None or changes.sources is not None:  # checked before the write transaction
        merged = changes.apply_to(get_schedule(store, str(schedule_id), now=moment).spec).validated()
        resolved_agent = checked_targets(store, merged).agent_uuid
    with store.transaction() as connection:
        current = _fetch_one(connection, str(schedule_id), moment)
        spec = changes.apply_to(current.spec).validated()
        if resolved_agent is not None:
            spec = replace(spec, agent_uuid=resolved_agent)
        fired_through = current.fired_through
        resumed = spec.enabled and not current.spec.enabled
        if spec.cadence() != current.spec.cadence() or resumed:
            fired_through = max(fired_through, moment)
        connection.execute(sql_text("schedules/update_schedule.sql"), {
            "schedule_id": current.schedule_id, "now": as_naive_utc(moment),
            "fired_through": as_naive_utc(fired_through), **_spec_parameters(spec),
        })
        return _fetch_one(connection, current.schedule_id, moment)


def archive_schedule(store: Store, schedule_id: str, *, now: datetime | None = None) -> Schedule:
    """Stop firing the schedule and hide it from `list`; archiving an archived one changes nothing."""
    return _set_archived(store, str(schedule_id), archive=True, now=as_aware_utc(now or utc_now()))


def unarchive_schedule(store: Store, schedule_id: str, *, now: datetime | None = None) -> Schedule:
    """Bring an archived schedule back; the slots that passed while it was archived are not owed."""
    return _set_archived(store, str(schedule_id), archive=False, now=as_aware_utc(now or utc_now()))


def schedule_runs(store: Store, schedule_id: str, limit: int = 50) -> list[ScheduleFire]:
    """The fire times a schedule claimed, newest first, with each run's id and status."""
    with store.connect() as connection:
        _fetch_one(connection, str(schedule_id), as_aware_utc(utc_now()))
        rows = connection.execute(sql_text("schedules/schedule_fires.sql"), {
            "schedule_id": str(schedule_id), "limit": parse_int(limit, "--limit", 1),
        }).fetchall()
    return [ScheduleFire(schedule_id=row[0], slot_at=as_aware_utc(row[1]), fired_at=as_aware_utc(row[2]),
                         run_id=row[3], error=row[4], run_status=row[5]) for row in rows]


def _set_archived(store: Store, schedule_id: str, *, archive: bool, now: datetime) -> Schedule:
    with store.transaction() as connection:
        current = _fetch_one(connection, schedule_id, now)
        if (current.archived_at is not None) != archive:
            connection.execute(sql_text("schedules/set_archived.sql"), {
                "schedule_id": schedule_id, "now": as_naive_utc(now), "archived_at": as_naive_utc(now) if archive else None,
            })
        return _fetch_one(connection, schedule_id, now)


def _spec_parameters(spec: ScheduleSpec) -> dict[str, Any]:
    return {
        "title": spec.title, "agent_uuid": spec.agent_uuid, "frequency": spec.frequency,
        "minutes": list(spec.minutes), "hours": list_or_none(spec.hours),
        "days_of_week": list_or_none(spec.days_of_week), "days_of_month": list_or_none(spec.days_of_month),
        "timezone": spec.timezone, "prompt": spec.prompt, "model_id": spec.model_id,
        "span_limit": spec.span_limit, "lookback_hours": spec.lookback_hours,
        "max_subagent_depth": spec.max_subagent_depth, "max_turns": spec.max_turns,
        "enabled": spec.enabled, "sources": list(spec.sources), "skip_invalid": spec.skip_invalid,
    }


def _fetch_one(connection: duckdb.DuckDBPyConnection, schedule_id: str, now: datetime) -> Schedule:
    found = _fetch(connection, schedule_id, True, now)
    if not found:
        raise NotFoundError(f"no schedule with id {schedule_id!r}",
                            hint="`halo-local schedule list --include-archived` shows the stored schedules")
    return found[0]


def _fetch(connection: duckdb.DuckDBPyConnection, schedule_id: str | None, include_archived: bool,
           now: datetime) -> list[Schedule]:
    rows = connection.execute(sql_text("schedules/select_schedules.sql"),
                              {"schedule_id": schedule_id, "include_archived": include_archived}).fetchall()
    return [_schedule_from_row(row, now) for row in rows]


def _schedule_from_row(row: tuple[Any, ...], now: datetime) -> Schedule:
    (schedule_id, title, agent_uuid, frequency, minutes, hours, days_of_week, days_of_month, timezone,
     prompt, model_id, span_limit, lookback_hours, max_subagent_depth, max_turns, enabled, sources,
     skip_invalid, archived_at, fired_through, created_at, updated_at, last_fired_at) = row
    spec = ScheduleSpec(
        title=title, agent_uuid=agent_uuid, frequency=frequency, minutes=tuple(minutes),
        hours=tuple_or_none(hours), days_of_week=tuple_or_none(days_of_week),
        days_of_month=tuple_or_none(days_of_month), timezone=timezone, prompt=prompt, model_id=model_id,
        span_limit=span_limit, lookback_hours=lookback_hours, max_subagent_depth=max_subagent_depth,
        max_turns=max_turns, enabled=enabled, sources=tuple(sources), skip_invalid=skip_invalid,
    )
    schedule = Schedule(
        schedule_id=schedule_id, spec=spec, archived_at=_aware_or_none(archived_at), fired_through=as_aware_utc(fired_through),
        created_at=as_aware_utc(created_at), updated_at=as_aware_utc(updated_at), last_fired_at=_aware_or_none(last_fired_at),
        next_run_at=None,
    )
    return replace(schedule, next_run_at=_next_run_at(schedule, now))


def _next_run_at(schedule: Schedule, now: datetime) -> datetime | None:
    if not schedule.active:
        return None
    due = due_slot(schedule, now)
    if due is not None:
        return due
    following = next_fire_times(schedule.spec, max(now, schedule.fired_through), 1)
    return following[0] if following else None


def _aware_or_none(value: datetime | None) -> datetime | None:
    """A stored (naive UTC) time read back as aware UTC, or None."""
    return None if value is None else as_aware_utc(value)
