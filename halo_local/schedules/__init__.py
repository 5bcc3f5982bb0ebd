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

The runs this package starts and the trace loading it triggers are injected into `tick` (`FireRun`,
`LoadSources`); the real ones, `start_scheduled_run` and `load_trace_sources`, live in
`halo_local.usecases`, so this package never imports runs (only their `RunOptions` bounds).

Layout: `cadence` (fire times, time helpers), `records` (spec, changes, stored schedule, flags),
`sources` (--source paths), `storage` (the schedules table), `firing` (tick, cron line), `outcomes`
(each schedule's last outcome).
"""

from __future__ import annotations

from halo_local.flags import parse_bool, parse_int, parse_int_list, parse_text
from halo_local.schedules.cadence import next_fire_times, previous_fire_time, zone_of
from halo_local.schedules.firing import (
    TICK_LOG_FILE,
    FireRun,
    LoadSources,
    cron_line,
    installed_executable,
    tick,
)
from halo_local.schedules.outcomes import last_outcomes, outcome_text
from halo_local.schedules.records import (
    FREQUENCIES,
    UPCOMING_COUNT,
    Fired,
    Schedule,
    ScheduleChanges,
    ScheduleFire,
    ScheduleSpec,
    due_slot,
)
from halo_local.schedules.sources import load_sources, parse_sources, remote_sources
from halo_local.schedules.storage import (
    archive_schedule,
    checked_targets,
    create_schedule,
    get_schedule,
    list_schedules,
    schedule_runs,
    unarchive_schedule,
    update_schedule,
)

__all__ = [
    "FREQUENCIES",
    "TICK_LOG_FILE",
    "UPCOMING_COUNT",
    "FireRun",
    "Fired",
    "LoadSources",
    "Schedule",
    "ScheduleChanges",
    "ScheduleFire",
    "ScheduleSpec",
    "archive_schedule",
    "checked_targets",
    "create_schedule",
    "cron_line",
    "due_slot",
    "get_schedule",
    "installed_executable",
    "last_outcomes",
    "list_schedules",
    "load_sources",
    "next_fire_times",
    "outcome_text",
    "parse_bool",
    "parse_int",
    "parse_int_list",
    "parse_sources",
    "parse_text",
    "previous_fire_time",
    "remote_sources",
    "schedule_runs",
    "tick",
    "unarchive_schedule",
    "update_schedule",
    "zone_of",
]
