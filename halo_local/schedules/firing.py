"""The tick: claim each due slot once, load the schedule's sources, start its run; and the cron line."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

import duckdb

from halo_local.common.timestamps import as_aware_utc, as_naive_utc
from halo_local.errors import HaloLocalError
from halo_local.resources import sql_text
from halo_local.schedules.records import Fired, Schedule, due_slot
from halo_local.schedules.storage import list_schedules
from halo_local.store import Store

TICK_LOG_FILE = "schedule-tick.log"

FireRun = Callable[["Schedule", datetime], str]
"""(schedule, slot time UTC) -> run id: creates and starts the run for that fire time."""
LoadSources = Callable[[Sequence[str], bool], Sequence[str] | None]
"""(sources, skip_invalid) -> warnings: loads a schedule's --source paths and globs incrementally
before its run; the warnings name what was left out (None: nothing to say)."""


def tick(store: Store, now: datetime, fire_run: FireRun, load_sources: LoadSources) -> list[Fired]:
    """Fire every active schedule whose slot has come, each slot exactly once; returns what fired.

    Per schedule: claim the slot, load its sources, start its run. A failure in one schedule is
    recorded on its fire (and returned) and does not stop the others. Each slot is claimed just before
    it fires, so that a tick killed mid-fire leaves at most one claimed slot unfired, not every due one.
    """
    moment = as_aware_utc(now)
    due = [(schedule, slot) for schedule in list_schedules(store, include_archived=False, now=moment)
           if (slot := due_slot(schedule, moment)) is not None]
    return [_fire(store, schedule, slot, fire_run, load_sources) for schedule, slot in due
            if _claim(store, schedule.schedule_id, slot, moment)]


class _AlreadyClaimed(Exception):
    """Another tick fired this slot, or a later one, first."""


def _claim(store: Store, schedule_id: str, slot: datetime, now: datetime) -> bool:
    """Claim `slot` in one transaction; False when another tick claimed it (or a later one) first."""
    parameters = {"schedule_id": schedule_id, "slot_at": as_naive_utc(slot)}
    try:
        with store.transaction() as connection:
            if not connection.execute(sql_text("schedules/advance_fired_through.sql"), parameters).fetchall():
                raise _AlreadyClaimed
            inserted = connection.execute(sql_text("schedules/claim_fire.sql"),
                                          {**parameters, "fired_at": as_naive_utc(now)}).fetchall()
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
            "schedule_id": schedule.schedule_id, "slot_at": as_naive_utc(slot), "run_id": run_id, "error": error,
        })
    return Fired(schedule_id=schedule.schedule_id, title=schedule.spec.title, slot_at=slot,
                 run_id=run_id, error=error, warnings=warnings)


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
