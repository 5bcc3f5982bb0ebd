"""Schedules: recurring analyses of one agent, fired by `halo-local schedule tick` from cron.

A schedule is a cadence (frequency, minutes, hours, days of week or month, IANA time zone) plus the
options of the runs it fires. Cron runs `schedule tick` every minute; each tick fires every enabled,
unarchived schedule whose latest fire time ("slot") has come and was not fired yet.

Fire times, the rules people ask about:
- They are wall-clock times in the schedule's time zone (zoneinfo), converted to UTC per day, so a
  09:00 daily stays at 09:00 local across daylight-saving changes.
- A wall-clock time that a zone skips (02:30 on a spring-forward night) fires once, at the same
  distance after the jump (03:30 new time); a slot that lands on the same instant as another one
  fires once.
- A wall-clock time that a zone repeats (01:30 on a fall-back night) fires once, at its first
  occurrence; an hourly schedule therefore fires once in the repeated hour.
- A day of month that a month lacks (31 in April, 30 in February, 29 in February of a common year)
  is skipped for that month, like cron does: `--days-of-month 31` fires in seven months a year.
  `ScheduleSpec.notes()` (the `notes` of its JSON) says so for the schedule at hand.
- Day of week is 0=Sunday..6=Saturday (cron's numbering).

Firing, exactly once: a tick claims a slot in one short transaction before it starts anything:
it moves `schedules.fired_through` up to the slot (only if no tick fired that slot or a later one)
and inserts the `(schedule_id, slot_at)` primary key into `schedule_fires`. DuckDB lets one process
hold the database file at a time, so overlapping ticks in separate processes take turns, and the
second one finds the slot claimed. In one process, concurrent transactions that collide fail on
commit, which counts as "claimed by someone else". A late or missed tick fires only the latest slot
that has come, never a backlog, and a slot older than one already fired is never fired. A firing that
fails (sources would not load, the run could not be created) keeps its claim and records the error:
it is not retried.

The runs this module starts and the trace loading it triggers are injected into `tick` (`FireRun`,
`LoadSources`); the real ones, `start_scheduled_run` and `load_trace_sources`, import `runs` and
`ingest` only when called, so this module loads without them.
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb

from halo_local.errors import HaloLocalError, InvalidTraceFileError, NotFoundError, NotTraceFileError, UsageError
from halo_local.flags import parse_bool, parse_int, parse_int_list, parse_text
from halo_local.resources import sql_text
from halo_local.store import Store

FREQUENCIES = ("hourly", "daily", "weekly", "monthly")
DEFAULT_SPAN_LIMIT = 10_000
DEFAULT_LOOKBACK_HOURS = 24
DEFAULT_MAX_SUBAGENT_DEPTH = 3
DEFAULT_MAX_TURNS = 50
MAX_SPAN_LIMIT = 1_000_000  # the runs' own ceiling: refuse at create time what a run would refuse later
MAX_LOOKBACK_HOURS = 876_000  # the runs' own ceiling too (100 years)
UPCOMING_COUNT = 5
TICK_LOG_FILE = "schedule-tick.log"

FireRun = Callable[["Schedule", datetime], str]
"""(schedule, slot time UTC) -> run id: creates and starts the run for that fire time."""
LoadSources = Callable[[Sequence[str], bool], Sequence[str] | None]
"""(sources, skip_invalid) -> warnings: loads a schedule's --source paths and globs incrementally
before its run; the warnings name what was left out (None: nothing to say)."""

_WEEKDAY_NAMES = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
                "September", "October", "November", "December")
_SEARCH_DAYS = 5 * 366  # every valid cadence has a slot within a year; this is a safety stop
_CADENCE_FIELDS = ("frequency", "minutes", "hours", "days_of_week", "days_of_month", "timezone")
_LIST_FLAGS = {
    "hours": ("--hours", "daily, weekly and monthly"),
    "days_of_week": ("--days-of-week", "weekly"),
    "days_of_month": ("--days-of-month", "monthly"),
}
_USED_BY = {
    "hourly": (),
    "daily": ("hours",),
    "weekly": ("hours", "days_of_week"),
    "monthly": ("hours", "days_of_month"),
}


# --- Flag parsing: fire hands values over as int, str, tuple or bool; accept each of them. ----------

def parse_sources(value: Any) -> tuple[str, ...]:
    """`--source` values (one, a list, or a JSON array of them) as absolute paths or globs.

    Paths are made absolute against the current directory now, so that cron, which runs elsewhere,
    loads the same files. Empty values are dropped (`--source ""` on update clears the list).
    """
    if value is None:
        return ()
    if isinstance(value, str):
        items: list[Any] = [value]
        if value.strip().startswith("["):
            try:
                decoded = json.loads(value)
            except ValueError:
                decoded = None
            if isinstance(decoded, list):
                items = decoded
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        items = [value]
    found: list[str] = []
    for item in items:
        text = str(item).strip()
        if text:
            absolute = os.path.abspath(os.path.expanduser(text))
            if absolute not in found:
                found.append(absolute)
    return tuple(found)


def parse_timestamp(value: Any, flag: str = "--now") -> datetime:
    """An ISO 8601 time as aware UTC; a time without an offset is read as UTC."""
    if isinstance(value, datetime):
        return _utc(value)
    text = str(value).strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{flag} takes an ISO 8601 time such as 2025-01-31T09:00:00Z; got {value!r}") from None
    return _utc(parsed)


# --- The domain objects. ------------------------------------------------------------------------------

@dataclass(frozen=True)
class ScheduleSpec:
    """What a schedule is asked to do: its cadence and the options of each run it fires.

    `hours` is None for hourly schedules (they fire every hour); `days_of_week` only applies to
    weekly and `days_of_month` only to monthly ones. `prompt`/`model_id` None mean the runs' defaults.
    """

    title: str
    agent_uuid: str
    frequency: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...] | None = None
    days_of_week: tuple[int, ...] | None = None
    days_of_month: tuple[int, ...] | None = None
    timezone: str = "UTC"
    prompt: str | None = None
    model_id: str | None = None
    span_limit: int = DEFAULT_SPAN_LIMIT
    lookback_hours: int = DEFAULT_LOOKBACK_HOURS
    max_subagent_depth: int = DEFAULT_MAX_SUBAGENT_DEPTH
    max_turns: int = DEFAULT_MAX_TURNS
    enabled: bool = True
    sources: tuple[str, ...] = ()
    skip_invalid: bool = True

    @classmethod
    def from_flags(cls, *, title: Any = None, agent_uuid: Any = None, frequency: Any = None,
                   minutes: Any = None, hours: Any = None, days_of_week: Any = None,
                   days_of_month: Any = None, timezone: Any = "UTC", prompt: Any = None,
                   model_id: Any = None, span_limit: Any = DEFAULT_SPAN_LIMIT,
                   lookback_hours: Any = DEFAULT_LOOKBACK_HOURS,
                   max_subagent_depth: Any = DEFAULT_MAX_SUBAGENT_DEPTH,
                   max_turns: Any = DEFAULT_MAX_TURNS, enabled: Any = True,
                   source: Any = None, skip_invalid: Any = True) -> ScheduleSpec:
        """The `schedule create` flags as fire delivers them -> a validated spec."""
        for value, flag in ((title, "--title"), (agent_uuid, "--agent-uuid"),
                            (frequency, "--frequency"), (minutes, "--minutes")):
            if value is None:
                raise UsageError(f"{flag} is required", hint="`halo-local schedule create --help` lists the flags")
        given = ScheduleChanges.from_flags(
            title=title, agent_uuid=agent_uuid, frequency=frequency, minutes=minutes, hours=hours,
            days_of_week=days_of_week, days_of_month=days_of_month,
            timezone="UTC" if timezone is None else timezone, prompt=prompt, model_id=model_id,
            span_limit=span_limit, lookback_hours=lookback_hours, max_subagent_depth=max_subagent_depth,
            max_turns=max_turns, enabled=enabled, source=source, skip_invalid=skip_invalid,
        )
        return given.apply_to(cls(title="", agent_uuid="", frequency="", minutes=())).validated()

    def validated(self) -> ScheduleSpec:
        """This spec checked as a whole; raises UsageError naming the flag at fault."""
        if not self.title.strip():
            raise UsageError("--title must not be empty")
        if not self.agent_uuid.strip():
            raise UsageError("--agent-uuid must not be empty",
                             hint="`halo-local agent list` shows the agents and their UUIDs")
        if self.frequency not in FREQUENCIES:
            raise UsageError(f"--frequency must be one of {', '.join(FREQUENCIES)}; got {self.frequency!r}")
        minutes = parse_int_list(self.minutes, "--minutes", 0, 59)
        used = _USED_BY[self.frequency]
        for name, (flag, applies_to) in _LIST_FLAGS.items():
            value = getattr(self, name)
            if name in used and value is None:
                raise UsageError(f"{flag} is required for {_article(self.frequency)} {self.frequency} schedule")
            if name not in used and value is not None:
                raise UsageError(f"{flag} does not apply to {_article(self.frequency)} {self.frequency} schedule",
                                 hint=f"{flag} is used by {applies_to} schedules only")
        zone_of(self.timezone)
        return replace(
            self,
            title=self.title.strip(),
            agent_uuid=self.agent_uuid.strip(),
            minutes=minutes,
            hours=_optional_list(self.hours, "--hours", 0, 23),
            days_of_week=_optional_list(self.days_of_week, "--days-of-week", 0, 6),
            days_of_month=_optional_list(self.days_of_month, "--days-of-month", 1, 31),
            model_id=_checked_model_id(self.model_id),
            span_limit=parse_int(self.span_limit, "--span-limit", 1, MAX_SPAN_LIMIT),
            lookback_hours=parse_int(self.lookback_hours, "--lookback-hours", 1, MAX_LOOKBACK_HOURS),
            max_subagent_depth=parse_int(self.max_subagent_depth, "--max-subagent-depth", 1, 5),
            max_turns=parse_int(self.max_turns, "--max-turns", 1, 100),
            enabled=parse_bool(self.enabled, "--enabled"),
            sources=parse_sources(list(self.sources)),
            skip_invalid=parse_bool(self.skip_invalid, "--skip-invalid"),
        )

    def cadence(self) -> tuple[Any, ...]:
        """The fields that decide fire times: when they change, missed slots are no longer owed."""
        return tuple(getattr(self, name) for name in _CADENCE_FIELDS)

    def describe(self) -> str:
        """The cadence in one line, e.g. `weekly on Monday, Friday at 09:00 (Europe/Paris)`."""
        if self.frequency == "hourly":
            when = "hourly at " + ", ".join(f":{minute:02d}" for minute in self.minutes)
        else:
            times = ", ".join(f"{hour:02d}:{minute:02d}" for hour in self.hours or () for minute in self.minutes)
            days = ""
            if self.frequency == "weekly":
                days = " on " + ", ".join(_WEEKDAY_NAMES[day] for day in self.days_of_week or ())
            elif self.frequency == "monthly":
                days = " on day " + ", ".join(str(day) for day in self.days_of_month or ())
            when = f"{self.frequency}{days} at {times}"
        return f"{when} ({self.timezone})"

    def notes(self) -> list[str]:
        """Plain-language caveats of this cadence (months that lack a chosen day are skipped)."""
        notes = []
        for day in self.days_of_month or ():
            if day <= 28:
                continue
            lacking = [_MONTH_NAMES[month - 1] for month in range(1, 13)
                       if day > _days_in_month(2001 if month == 2 else 2000, month)]
            if day == 29:
                notes.append("Day 29 is skipped in February of common years (like cron).")
            else:
                notes.append(f"Day {day} is skipped in months that lack it (like cron): {', '.join(lacking)}.")
        return notes


@dataclass(frozen=True)
class ScheduleChanges:
    """`schedule update`: None leaves a field as it is; an empty prompt, model or source list clears it."""

    title: str | None = None
    agent_uuid: str | None = None
    frequency: str | None = None
    minutes: tuple[int, ...] | None = None
    hours: tuple[int, ...] | None = None
    days_of_week: tuple[int, ...] | None = None
    days_of_month: tuple[int, ...] | None = None
    timezone: str | None = None
    prompt: str | None = None
    model_id: str | None = None
    span_limit: int | None = None
    lookback_hours: int | None = None
    max_subagent_depth: int | None = None
    max_turns: int | None = None
    enabled: bool | None = None
    sources: tuple[str, ...] | None = None
    skip_invalid: bool | None = None

    @classmethod
    def from_flags(cls, *, title: Any = None, agent_uuid: Any = None, frequency: Any = None,
                   minutes: Any = None, hours: Any = None, days_of_week: Any = None,
                   days_of_month: Any = None, timezone: Any = None, prompt: Any = None,
                   model_id: Any = None, span_limit: Any = None, lookback_hours: Any = None,
                   max_subagent_depth: Any = None, max_turns: Any = None, enabled: Any = None,
                   source: Any = None, skip_invalid: Any = None) -> ScheduleChanges:
        """The `schedule update` flags as fire delivers them; each is converted and range-checked."""

        def optional(value: Any, convert: Callable[[Any], Any]) -> Any:
            return None if value is None else convert(value)

        frequency_text = parse_text(frequency)
        return cls(
            title=parse_text(title),
            agent_uuid=parse_text(agent_uuid),
            frequency=None if frequency_text is None else frequency_text.strip().lower(),
            minutes=optional(minutes, lambda v: parse_int_list(v, "--minutes", 0, 59)),
            hours=optional(hours, lambda v: parse_int_list(v, "--hours", 0, 23)),
            days_of_week=optional(days_of_week, lambda v: parse_int_list(v, "--days-of-week", 0, 6)),
            days_of_month=optional(days_of_month, lambda v: parse_int_list(v, "--days-of-month", 1, 31)),
            timezone=optional(timezone, lambda v: str(v).strip()),
            prompt=parse_text(prompt),
            model_id=parse_text(model_id),
            span_limit=optional(span_limit, lambda v: parse_int(v, "--span-limit", 1, MAX_SPAN_LIMIT)),
            lookback_hours=optional(lookback_hours, lambda v: parse_int(v, "--lookback-hours", 1, MAX_LOOKBACK_HOURS)),
            max_subagent_depth=optional(max_subagent_depth, lambda v: parse_int(v, "--max-subagent-depth", 1, 5)),
            max_turns=optional(max_turns, lambda v: parse_int(v, "--max-turns", 1, 100)),
            enabled=optional(enabled, lambda v: parse_bool(v, "--enabled")),
            sources=None if source is None else parse_sources(source),
            skip_invalid=optional(skip_invalid, lambda v: parse_bool(v, "--skip-invalid")),
        )

    def is_empty(self) -> bool:
        return all(getattr(self, name) is None for name in self.__dataclass_fields__)

    def apply_to(self, spec: ScheduleSpec) -> ScheduleSpec:
        """`spec` with these changes; list flags a new frequency does not use are dropped unless given."""
        merged = spec
        if self.frequency is not None and self.frequency != spec.frequency and self.frequency in _USED_BY:
            used = _USED_BY[self.frequency]
            merged = replace(merged, **{name: None for name in _LIST_FLAGS if name not in used})
        updates: dict[str, Any] = {}
        for name in ScheduleSpec.__dataclass_fields__:
            value = getattr(self, name)
            if value is None:
                continue
            if name in ("prompt", "model_id"):
                value = value if value.strip() else None
            updates[name] = value
        return replace(merged, **updates)


@dataclass(frozen=True)
class Schedule:
    """A stored schedule. `next_run_at` is the slot the next tick fires if it is already due, else
    the first slot to come; None while disabled or archived."""

    schedule_id: str
    spec: ScheduleSpec
    archived_at: datetime | None
    fired_through: datetime
    created_at: datetime
    updated_at: datetime
    last_fired_at: datetime | None
    next_run_at: datetime | None

    @property
    def active(self) -> bool:
        return self.spec.enabled and self.archived_at is None

    def upcoming(self, count: int = UPCOMING_COUNT) -> list[datetime]:
        """The next `count` fire times, starting with `next_run_at` (empty while inactive)."""
        if self.next_run_at is None or count < 1:
            return []
        return [self.next_run_at, *next_fire_times(self.spec, self.next_run_at, count - 1)]

    def to_json(self) -> dict[str, Any]:
        spec = self.spec
        return {
            "scheduleId": self.schedule_id,
            "title": spec.title,
            "agentUuid": spec.agent_uuid,
            "frequency": spec.frequency,
            "minutes": list(spec.minutes),
            "hours": _list_or_none(spec.hours),
            "daysOfWeek": _list_or_none(spec.days_of_week),
            "daysOfMonth": _list_or_none(spec.days_of_month),
            "timezone": spec.timezone,
            "prompt": spec.prompt,
            "modelId": spec.model_id,
            "spanLimit": spec.span_limit,
            "lookbackHours": spec.lookback_hours,
            "maxSubagentDepth": spec.max_subagent_depth,
            "maxTurns": spec.max_turns,
            "enabled": spec.enabled,
            "archived": self.archived_at is not None,
            "archivedAt": iso(self.archived_at),
            "sources": list(spec.sources),
            "skipInvalid": spec.skip_invalid,
            "nextRunAt": iso(self.next_run_at),
            "lastFiredAt": iso(self.last_fired_at),
            "createdAt": iso(self.created_at),
            "updatedAt": iso(self.updated_at),
            "notes": spec.notes(),
        }


@dataclass(frozen=True)
class ScheduleFire:
    """One claimed fire time of a schedule and what came of it."""

    schedule_id: str
    slot_at: datetime
    fired_at: datetime
    run_id: str | None
    error: str | None
    run_status: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "scheduleId": self.schedule_id,
            "slotAt": iso(self.slot_at),
            "firedAt": iso(self.fired_at),
            "runId": self.run_id,
            "runStatus": self.run_status,
            "error": self.error,
        }


@dataclass(frozen=True)
class Fired:
    """What one tick did for one schedule: the run it started, or the error that stopped it, and the
    source files it left out (skip-invalid loading) as warnings."""

    schedule_id: str
    title: str
    slot_at: datetime
    run_id: str | None
    error: str | None = None
    warnings: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"scheduleId": self.schedule_id, "title": self.title, "slotAt": iso(self.slot_at),
                "runId": self.run_id, "error": self.error, "warnings": list(self.warnings)}


# --- Fire times. ------------------------------------------------------------------------------------

def zone_of(name: str) -> ZoneInfo:
    """The IANA zone `name`, or a UsageError naming --timezone."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"--timezone {name!r} is not an IANA time zone",
                         hint="use a name such as UTC, Europe/Paris or America/New_York") from None


def next_fire_times(schedule: Schedule | ScheduleSpec, after: datetime, count: int = 1) -> list[datetime]:
    """The first `count` fire times strictly after `after`, as aware UTC datetimes, ascending."""
    spec = schedule.spec if isinstance(schedule, Schedule) else schedule
    after = _utc(after)
    if count < 1:
        return []
    zone = zone_of(spec.timezone)
    day = after.astimezone(zone).date() - timedelta(days=1)
    found: set[datetime] = set()
    for _ in range(_SEARCH_DAYS):
        found.update(instant for instant in _slots_on(spec, zone, day) if instant > after)
        # Slots of later days are all later than this day's local midnight read as UTC (offsets stay
        # within a day), so once `count` slots precede that bound, no later day can displace them.
        bound = datetime(day.year, day.month, day.day, tzinfo=UTC)
        ordered = sorted(found)
        if len(ordered) >= count and ordered[count - 1] < bound:
            return ordered[:count]
        day += timedelta(days=1)
    return sorted(found)[:count]


def previous_fire_time(schedule: Schedule | ScheduleSpec, at_or_before: datetime) -> datetime | None:
    """The latest fire time at or before `at_or_before` (aware UTC), or None if there is none."""
    spec = schedule.spec if isinstance(schedule, Schedule) else schedule
    limit = _utc(at_or_before)
    zone = zone_of(spec.timezone)
    day = limit.astimezone(zone).date() + timedelta(days=1)
    best: datetime | None = None
    for _ in range(_SEARCH_DAYS):
        for instant in _slots_on(spec, zone, day):
            if instant <= limit and (best is None or instant > best):
                best = instant
        # Slots of earlier days all precede the day after this one's local midnight read as UTC.
        if best is not None and best >= datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1):
            return best
        day -= timedelta(days=1)
    return best


def _slots_on(spec: ScheduleSpec, zone: ZoneInfo, day: date) -> set[datetime]:
    """The UTC instants of `day`'s wall-clock slots; fold=0 picks a repeated time's first occurrence
    and moves a skipped time forward by the size of the gap."""
    if spec.frequency == "weekly" and (day.weekday() + 1) % 7 not in (spec.days_of_week or ()):
        return set()
    if spec.frequency == "monthly" and day.day not in (spec.days_of_month or ()):
        return set()
    hours: Iterable[int] = range(24) if spec.frequency == "hourly" else (spec.hours or ())
    return {
        datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone).astimezone(UTC)
        for hour in hours
        for minute in spec.minutes
    }


def _optional_list(values: Any, flag: str, minimum: int, maximum: int) -> tuple[int, ...] | None:
    return None if values is None else parse_int_list(values, flag, minimum, maximum)


def _checked_model_id(model_id: str | None) -> str | None:
    """The catalog id of `model_id` (None stays None: each run then takes the default model then)."""
    if model_id is None:
        return None
    from halo_local.llm.models import resolve_model_id  # loaded only when a model is named

    try:
        return resolve_model_id(model_id)
    except UsageError as error:
        raise UsageError(f"--model-id: {error.message}", hint=error.hint) from None


def _days_in_month(year: int, month: int) -> int:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


# --- Storage. -------------------------------------------------------------------------------------------

def create_schedule(store: Store, spec: ScheduleSpec, *, now: datetime | None = None) -> Schedule:
    """Store a new schedule; its first fire time is the first slot after `now`.

    Its agent and sources are checked first (`checked_targets`), so that a typo is refused now rather
    than failing every fire.
    """
    spec = checked_targets(store, spec.validated())
    moment = _utc(now or utc_now())
    schedule_id = "sch_" + secrets.token_hex(6)
    with store.transaction() as connection:
        connection.execute(sql_text("schedules/insert_schedule.sql"),
                           {"schedule_id": schedule_id, "now": _naive(moment), **_spec_parameters(spec)})
    return get_schedule(store, schedule_id, now=moment)


def checked_targets(store: Store, spec: ScheduleSpec) -> ScheduleSpec:
    """`spec` with its agent as a UUID, once its sources and agent are known to exist (UsageError if not).

    Every source must match a trace file now, as `traces load` requires. The agent (a UUID, or a name
    only one agent has) must be stored, or else appear in the sources: each run loads them first, so an
    agent that only they hold yet is accepted once a read of them into a scratch database (nothing is
    stored) finds it.
    """
    from halo_local import traces
    from halo_local.ingest.readers import expand_paths

    for source in spec.sources:
        try:
            expand_paths([source])
        except HaloLocalError as error:
            raise UsageError(error.message, hint=error.hint) from None
    stored = traces.list_agents(store, time_range="all")
    try:
        return replace(spec, agent_uuid=traces.resolve_agent(stored, spec.agent_uuid)["agentUuid"])
    except NotFoundError as error:
        if not spec.sources:
            raise UsageError(error.message, hint=error.hint) from None
    stored_uuids = {agent["agentUuid"] for agent in stored}
    in_sources = [agent for agent in _agents_in_sources(store, spec) if agent["agentUuid"] not in stored_uuids]
    try:
        return replace(spec, agent_uuid=traces.resolve_agent(stored + in_sources, spec.agent_uuid)["agentUuid"])
    except NotFoundError as error:
        raise UsageError(error.message, hint=error.hint) from None


def _agents_in_sources(store: Store, spec: ScheduleSpec) -> list[dict[str, Any]]:
    """The agents the schedule's sources hold, read as its runs would read them, into a throwaway store."""
    from halo_local import traces

    store.home.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="schedule-check-", dir=store.home) as scratch_home:
        scratch = Store(scratch_home)
        load_sources(scratch, spec.sources, skip_invalid=spec.skip_invalid)
        return traces.list_agents(scratch, time_range="all")


def get_schedule(store: Store, schedule_id: str, *, now: datetime | None = None) -> Schedule:
    """One schedule, archived or not; NotFoundError if there is none with that id."""
    with store.connect() as connection:
        return _fetch_one(connection, str(schedule_id), _utc(now or utc_now()))


def list_schedules(store: Store, include_archived: bool = False, *, now: datetime | None = None) -> list[Schedule]:
    """Schedules oldest first; archived ones only when asked."""
    with store.connect() as connection:
        return _fetch(connection, None, include_archived, _utc(now or utc_now()))


def update_schedule(store: Store, schedule_id: str, changes: ScheduleChanges, *,
                    now: datetime | None = None) -> Schedule:
    """Apply `changes`; a changed cadence or a re-enable drops the slots that passed before `now`."""
    if changes.is_empty():
        raise UsageError("schedule update needs at least one flag to change",
                         hint="`halo-local schedule update --help` lists the flags")
    moment = _utc(now or utc_now())
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
            "schedule_id": current.schedule_id, "now": _naive(moment),
            "fired_through": _naive(fired_through), **_spec_parameters(spec),
        })
    return get_schedule(store, current.schedule_id, now=moment)


def archive_schedule(store: Store, schedule_id: str, *, now: datetime | None = None) -> Schedule:
    """Stop firing the schedule and hide it from `list`; archiving an archived one changes nothing."""
    return _set_archived(store, str(schedule_id), archive=True, now=_utc(now or utc_now()))


def unarchive_schedule(store: Store, schedule_id: str, *, now: datetime | None = None) -> Schedule:
    """Bring an archived schedule back; the slots that passed while it was archived are not owed."""
    return _set_archived(store, str(schedule_id), archive=False, now=_utc(now or utc_now()))


def schedule_runs(store: Store, schedule_id: str, limit: int = 50) -> list[ScheduleFire]:
    """The fire times a schedule claimed, newest first, with each run's id and status."""
    with store.connect() as connection:
        _fetch_one(connection, str(schedule_id), utc_now())
        rows = connection.execute(sql_text("schedules/schedule_fires.sql"), {
            "schedule_id": str(schedule_id), "limit": parse_int(limit, "--limit", 1),
        }).fetchall()
    return [ScheduleFire(schedule_id=row[0], slot_at=_aware(row[1]), fired_at=_aware(row[2]),
                         run_id=row[3], error=row[4], run_status=row[5]) for row in rows]


def _set_archived(store: Store, schedule_id: str, *, archive: bool, now: datetime) -> Schedule:
    with store.transaction() as connection:
        current = _fetch_one(connection, schedule_id, now)
        if (current.archived_at is not None) != archive:
            connection.execute(sql_text("schedules/set_archived.sql"), {
                "schedule_id": schedule_id, "now": _naive(now), "archived_at": _naive(now) if archive else None,
            })
    return get_schedule(store, schedule_id, now=now)


def _spec_parameters(spec: ScheduleSpec) -> dict[str, Any]:
    return {
        "title": spec.title, "agent_uuid": spec.agent_uuid, "frequency": spec.frequency,
        "minutes": list(spec.minutes), "hours": _list_or_none(spec.hours),
        "days_of_week": _list_or_none(spec.days_of_week), "days_of_month": _list_or_none(spec.days_of_month),
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
        hours=_tuple_or_none(hours), days_of_week=_tuple_or_none(days_of_week),
        days_of_month=_tuple_or_none(days_of_month), timezone=timezone, prompt=prompt, model_id=model_id,
        span_limit=span_limit, lookback_hours=lookback_hours, max_subagent_depth=max_subagent_depth,
        max_turns=max_turns, enabled=enabled, sources=tuple(sources), skip_invalid=skip_invalid,
    )
    schedule = Schedule(
        schedule_id=schedule_id, spec=spec, archived_at=_aware(archived_at), fired_through=_aware(fired_through),
        created_at=_aware(created_at), updated_at=_aware(updated_at), last_fired_at=_aware(last_fired_at),
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


# --- Firing. -------------------------------------------------------------------------------------------

def due_slot(schedule: Schedule, now: datetime) -> datetime | None:
    """The slot a tick at `now` fires for this schedule: the latest one that has come, if it is later
    than every slot already fired (and than the schedule's creation or last cadence change)."""
    if not schedule.active:
        return None
    latest = previous_fire_time(schedule.spec, now)
    if latest is None or latest <= schedule.fired_through:
        return None
    return latest


def tick(store: Store, now: datetime, fire_run: FireRun, load_sources: LoadSources) -> list[Fired]:
    """Fire every active schedule whose slot has come, each slot exactly once; returns what fired.

    Per schedule: claim the slot, load its sources, start its run. A failure in one schedule is
    recorded on its fire (and returned) and does not stop the others.
    """
    moment = _utc(now)
    fired: list[Fired] = []
    for schedule in list_schedules(store, include_archived=False, now=moment):
        slot = due_slot(schedule, moment)
        if slot is None or not _claim(store, schedule.schedule_id, slot, moment):
            continue
        fired.append(_fire(store, schedule, slot, fire_run, load_sources))
    return fired


class _AlreadyClaimed(Exception):
    """Another tick fired this slot, or a later one, first."""


def _claim(store: Store, schedule_id: str, slot: datetime, now: datetime) -> bool:
    """Claim `slot` in one transaction; False when another tick claimed it (or a later one) first."""
    parameters = {"schedule_id": schedule_id, "slot_at": _naive(slot)}
    try:
        with store.transaction() as connection:
            if not connection.execute(sql_text("schedules/advance_fired_through.sql"), parameters).fetchall():
                raise _AlreadyClaimed
            inserted = connection.execute(sql_text("schedules/claim_fire.sql"),
                                          {**parameters, "fired_at": _naive(now)}).fetchall()
            if not inserted:
                raise _AlreadyClaimed
    except (_AlreadyClaimed, duckdb.TransactionException, duckdb.ConstraintException):
        return False
    return True


def _fire(store: Store, schedule: Schedule, slot: datetime, fire_run: FireRun,
          load_sources: LoadSources) -> Fired:
    run_id: str | None = None
    error: str | None = None
    warnings: tuple[str, ...] = ()
    try:
        if schedule.spec.sources:
            warnings = tuple(load_sources(list(schedule.spec.sources), schedule.spec.skip_invalid) or ())
        run_id = fire_run(schedule, slot)
    except Exception as failure:  # a cron tick must go on with the other schedules; the error is kept
        error = getattr(failure, "message", None) or f"{type(failure).__name__}: {failure}"
    with store.transaction() as connection:
        connection.execute(sql_text("schedules/record_fire.sql"), {
            "schedule_id": schedule.schedule_id, "slot_at": _naive(slot), "run_id": run_id, "error": error,
        })
    return Fired(schedule_id=schedule.schedule_id, title=schedule.spec.title, slot_at=slot,
                 run_id=run_id, error=error, warnings=warnings)


def start_scheduled_run(store: Store) -> FireRun:
    """The real FireRun: a detached analysis run of the schedule's agent whose window ends at the slot."""

    def fire(schedule: Schedule, slot: datetime) -> str:
        from halo_local import runs  # imported when a run is due, so schedules never needs runs to load

        spec = schedule.spec
        run = runs.create_run(
            store, agent_uuid=spec.agent_uuid, prompt=spec.prompt, window_end_at=slot,
            lookback_hours=spec.lookback_hours, model_id=spec.model_id, span_limit=spec.span_limit,
            max_subagent_depth=spec.max_subagent_depth, max_turns=spec.max_turns,
            schedule_id=schedule.schedule_id,
        )
        return str(run["runId"])

    return fire


def load_trace_sources(store: Store) -> LoadSources:
    """The real LoadSources: `traces load` of the paths, with the schedule's skip-invalid choice."""

    def load(sources: Sequence[str], skip_invalid: bool) -> list[str]:
        return load_sources(store, sources, skip_invalid=skip_invalid)

    return load


def load_sources(store: Store, sources: Sequence[str], *, skip_invalid: bool) -> list[str]:
    """Load a schedule's sources incrementally; returns a warning per file left out or loaded in part.

    Strict, it is `traces load`: the first bad record stops the load and fails the fire. With
    `skip_invalid`, which matters under cron, an exporter may be half-way through writing a file: bad
    records are left out (the complete lines load now, the rest once the file has changed; reloading
    stores no duplicates), and so is a file that cannot be read at all yet (a .gz still being written,
    a first record still incomplete), so that it stops neither the other files nor the run.
    """
    from halo_local.ingest import describe_skipped, load_paths
    from halo_local.ingest.readers import expand_paths, named_files

    if not skip_invalid:
        load_paths(store, list(sources))
        return []
    warnings = []
    named = named_files(sources)
    for path in expand_paths(sources):
        try:
            summary = load_paths(store, [path], skip_invalid=True)
        except NotTraceFileError:
            if path in named:
                raise
        except InvalidTraceFileError as error:
            warnings.append(f"left out {error.message}")
        else:
            warnings.extend(describe_skipped(entry) for entry in summary.skipped_records())
    return warnings


def installed_executable() -> Path:
    """The absolute path of the `halo-local` script for cron: this process's own, else the one
    installed beside this Python, else the one on PATH."""
    invoked = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    candidates = [invoked] if invoked is not None and invoked.name == "halo-local" else []
    candidates.append(Path(sys.executable).parent / "halo-local")
    on_path = shutil.which("halo-local")
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate.resolve()
    raise HaloLocalError("cannot find the halo-local executable to put in the crontab line",
                         hint="install the package (pip install halo-local) so that the halo-local script exists")


def cron_line(home: Path, executable: Path) -> str:
    """The crontab line that ticks every minute for `home`, appending output to a log file in it."""
    home_path = Path(home).expanduser().resolve()
    command = (
        f"HALO_HOME={shlex.quote(str(home_path))} {shlex.quote(str(Path(executable).expanduser().resolve()))}"
        f" schedule tick >> {shlex.quote(str(home_path / TICK_LOG_FILE))} 2>&1"
    )
    return "* * * * * " + command.replace("%", "\\%")  # cron turns a bare % into a newline


# --- Small helpers. --------------------------------------------------------------------------------

def iso(value: datetime | None) -> str | None:
    """UTC time as `2025-01-31T09:00:00Z` (the CLI's JSON form), or None."""
    return None if value is None else _naive(value).isoformat() + "Z"


def utc_now() -> datetime:
    """The current time, aware UTC (the default `now` of every command)."""
    return datetime.now(UTC)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _naive(value: datetime) -> datetime:
    return _utc(value).replace(tzinfo=None)


def _aware(value: datetime | None) -> Any:
    return None if value is None else _utc(value)


def _list_or_none(values: Sequence[int] | None) -> list[int] | None:
    return None if values is None else list(values)


def _tuple_or_none(values: Sequence[int] | None) -> tuple[int, ...] | None:
    return None if values is None else tuple(values)


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiouh" else "a"


__all__ = [
    "FREQUENCIES", "FireRun", "Fired", "LoadSources", "Schedule", "ScheduleChanges", "ScheduleFire",
    "ScheduleSpec", "archive_schedule", "checked_targets", "create_schedule", "cron_line", "due_slot",
    "get_schedule", "installed_executable", "iso", "list_schedules", "load_sources", "load_trace_sources",
    "next_fire_times", "parse_bool", "parse_int", "parse_int_list", "parse_sources", "parse_text",
    "parse_timestamp", "previous_fire_time", "schedule_runs", "start_scheduled_run", "tick",
    "unarchive_schedule", "update_schedule", "utc_now", "zone_of",
]
