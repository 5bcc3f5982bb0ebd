"""The schedule records: what a schedule is asked to do (`ScheduleSpec`), a change to it
(`ScheduleChanges`), a stored schedule (`Schedule`), one claimed fire time (`ScheduleFire`) and what
a tick did (`Fired`); flags are converted and range-checked here, as fire delivers them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from halo_local.common.timestamps import iso
from halo_local.errors import UsageError
from halo_local.flags import parse_bool, parse_int_list, parse_text
from halo_local.llm.models import resolve_model_id
from halo_local.runs.options import DEFAULT_LOOKBACK_HOURS, DEFAULTS, RunOptions
from halo_local.schedules.cadence import next_fire_times, previous_fire_time, zone_of
from halo_local.schedules.sources import parse_sources

FREQUENCIES = ("hourly", "daily", "weekly", "monthly")
# The runs' own bounds: a schedule refuses at create time what its runs would refuse later.
_BOUNDS = RunOptions.BOUNDS
UPCOMING_COUNT = 5

_WEEKDAY_NAMES = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
                "September", "October", "November", "December")
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
    span_limit: int = DEFAULTS.span_limit
    lookback_hours: int = DEFAULT_LOOKBACK_HOURS
    max_subagent_depth: int = DEFAULTS.max_subagent_depth
    max_turns: int = DEFAULTS.max_turns
    enabled: bool = True
    sources: tuple[str, ...] = ()
    skip_invalid: bool = True

    @classmethod
    def from_flags(cls, *, title: Any = None, agent_uuid: Any = None, frequency: Any = None,
                   minutes: Any = None, hours: Any = None, days_of_week: Any = None,
                   days_of_month: Any = None, timezone: Any = "UTC", prompt: Any = None,
                   model_id: Any = None, span_limit: Any = DEFAULTS.span_limit,
                   lookback_hours: Any = DEFAULT_LOOKBACK_HOURS,
                   max_subagent_depth: Any = DEFAULTS.max_subagent_depth,
                   max_turns: Any = DEFAULTS.max_turns, enabled: Any = True,
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
            span_limit=_BOUNDS["span_limit"].check(self.span_limit),
            lookback_hours=_BOUNDS["lookback_hours"].check(self.lookback_hours),
            max_subagent_depth=_BOUNDS["max_subagent_depth"].check(self.max_subagent_depth),
            max_turns=_BOUNDS["max_turns"].check(self.max_turns),
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
            span_limit=optional(span_limit, _BOUNDS["span_limit"].check),
            lookback_hours=optional(lookback_hours, _BOUNDS["lookback_hours"].check),
            max_subagent_depth=optional(max_subagent_depth, _BOUNDS["max_subagent_depth"].check),
            max_turns=optional(max_turns, _BOUNDS["max_turns"].check),
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
            dropped: dict[str, Any] = {name: None for name in _LIST_FLAGS if name not in used}
            merged = replace(merged, **dropped)
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
            "hours": list_or_none(spec.hours),
            "daysOfWeek": list_or_none(spec.days_of_week),
            "daysOfMonth": list_or_none(spec.days_of_month),
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


def _optional_list(values: Any, flag: str, minimum: int, maximum: int) -> tuple[int, ...] | None:
    return None if values is None else parse_int_list(values, flag, minimum, maximum)


def _checked_model_id(model_id: str | None) -> str | None:
    """The catalog id of `model_id` (None stays None: each run then takes the default model then)."""
    if model_id is None:
        return None
    try:
        return resolve_model_id(model_id)
    except UsageError as error:
        raise UsageError(f"--model-id: {error.message}", hint=error.hint) from None


def _days_in_month(year: int, month: int) -> int:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


def list_or_none(values: Sequence[int] | None) -> list[int] | None:
    return None if values is None else list(values)


def tuple_or_none(values: Sequence[int] | None) -> tuple[int, ...] | None:
    return None if values is None else tuple(values)


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiouh" else "a"


def due_slot(schedule: Schedule, now: datetime) -> datetime | None:
    """The slot a tick at `now` fires for this schedule: the latest one that has come, if it is later
    than every slot already fired (and than the schedule's creation or last cadence change)."""
    if not schedule.active:
        return None
    latest = previous_fire_time(schedule.spec, now)
    if latest is None or latest <= schedule.fired_through:
        return None
    return latest
