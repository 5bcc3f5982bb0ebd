"""Fire times: a cadence's wall-clock slots in its IANA zone, as UTC instants.

The rules (daylight-saving gaps and repeats, days a month lacks) are told in the package docstring.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from halo_local.common.timestamps import as_aware_utc
from halo_local.errors import UsageError

_SEARCH_DAYS = 5 * 366  # every valid cadence has a slot within a year; this is a safety stop


class Cadence(Protocol):
    """What fire times are computed from: a `ScheduleSpec` (records.py) is one."""

    @property
    def frequency(self) -> str: ...
    @property
    def minutes(self) -> tuple[int, ...]: ...
    @property
    def hours(self) -> tuple[int, ...] | None: ...
    @property
    def days_of_week(self) -> tuple[int, ...] | None: ...
    @property
    def days_of_month(self) -> tuple[int, ...] | None: ...
    @property
    def timezone(self) -> str: ...


def zone_of(name: str) -> ZoneInfo:
    """The IANA zone `name`, or a UsageError naming --timezone."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"--timezone {name!r} is not an IANA time zone",
                         hint="use a name such as UTC, Europe/Paris or America/New_York") from None


def next_fire_times(spec: Cadence, after: datetime, count: int = 1) -> list[datetime]:
    """The first `count` fire times strictly after `after`, as aware UTC datetimes, ascending."""
    after = as_aware_utc(after)
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


def previous_fire_time(spec: Cadence, at_or_before: datetime) -> datetime | None:
    """The latest fire time at or before `at_or_before` (aware UTC), or None if there is none."""
    limit = as_aware_utc(at_or_before)
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


def _slots_on(spec: Cadence, zone: ZoneInfo, day: date) -> set[datetime]:
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
