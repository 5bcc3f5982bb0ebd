"""`schedule create|list|get|runs|update|archive|unarchive|tick|cron`: recurring analyses."""

from __future__ import annotations

import sys
from typing import Any

from halo_local import llm, render, runs, schedules, untrusted, usecases
from halo_local.cli.help import real_defaults
from halo_local.cli.output import EXIT_ERROR, EXIT_OK, JSON_MODE, Output, default_store
from halo_local.cli.text import schedule_document, schedule_text
from halo_local.cli.zone import shown_time
from halo_local.common.timestamps import as_aware_utc, iso, parse_timestamp, utc_now
from halo_local.errors import UsageError
from halo_local.flags import parse_bool, parse_int
from halo_local.ids import full_id
from halo_local.llm.models import API_KEY_ENV, default_model_id


def _schedule_id(given: str) -> str:
    return full_id(default_store(), "schedule", given)


def _schedule_flags(arguments: dict[str, Any]) -> dict[str, Any]:
    """A create or update command's flags (its parameters, taken first thing with `locals()`) as `from_flags`
    takes them: one list of flags, the signatures fire reads, instead of a second copy per command."""
    flags = {name: value for name, value in arguments.items() if name not in ("self", "schedule_id")}
    flags["source"] = flags["source"] or None
    return flags


class ScheduleCommands:
    """Recurring analyses of one agent, fired by `halo-local schedule tick` (install it with `schedule cron`)."""

    @real_defaults(prompt="the built-in analysis prompt", model_id=default_model_id())
    def create(self, title: str | None = None, agent_uuid: str | None = None, frequency: str | None = None,
               minutes: str | None = None, hours: str | None = None, days_of_week: str | None = None,
               days_of_month: str | None = None, timezone: str = "UTC", prompt: str | None = None,
               model_id: str | None = None, span_limit: int = runs.DEFAULTS.span_limit,
               lookback_hours: int = runs.DEFAULT_LOOKBACK_HOURS,
               max_subagent_depth: int = runs.DEFAULTS.max_subagent_depth,
               max_turns: int = runs.DEFAULTS.max_turns, enabled: bool = True, source: tuple[str, ...] = (),
               skip_invalid: bool = True) -> Output:
        """Create a recurring analysis of one agent.

        --frequency hourly|daily|weekly|monthly, --minutes 0-59 (comma-separated), --hours 0-23 (not
        hourly), --days-of-week 0=Sun..6 (weekly), --days-of-month 1-31 (monthly; a month without the
        day is skipped), --timezone IANA. --source PATH_OR_GLOB (repeatable) is loaded before each run,
        leaving out bad records and unreadable files unless --skip-invalid false; one --source may be a
        ClickHouse URL or `sources add` name, whose cluster then selects each run's window.
        """
        spec = schedules.ScheduleSpec.from_flags(**_schedule_flags(locals()))
        created = schedules.create_schedule(default_store(), spec)
        return Output(created.to_json(), "Created.\n" + schedule_text(created))

    def list(self, include_archived: bool = False) -> Output:
        """Schedules oldest first; --include-archived adds the archived ones."""
        store = default_store()
        found = schedules.list_schedules(store, parse_bool(include_archived, "--include-archived"))
        outcomes = schedules.last_outcomes(store)
        documents = [{**item.to_json(), "lastOutcome": outcomes.get(item.schedule_id)} for item in found]
        rows = [{**document, "cadence": item.spec.describe(), "outcome": schedules.outcome_text(document["lastOutcome"]),
                 "nextRun": shown_time(document["nextRunAt"], item.spec.timezone),
                 "lastFired": shown_time(document["lastFiredAt"], item.spec.timezone),
                 "state": "archived" if item.archived_at else ("enabled" if item.spec.enabled else "paused")}
                for item, document in zip(found, documents, strict=True)]
        text = render.table(
            rows,
            [("scheduleId", "SCHEDULE ID"), ("title", "TITLE"), ("agentUuid", "AGENT UUID"), ("cadence", "CADENCE"),
             ("state", "STATE"), ("nextRun", "NEXT RUN"), ("lastFired", "LAST FIRED"), ("outcome", "LAST OUTCOME")],
            empty="No schedules. Create one with `halo-local schedule create --title ... --agent-uuid ... "
                  "--frequency daily --minutes 0 --hours 9`.",
        )
        return Output(documents, text)

    def get(self, schedule_id: str) -> Output:
        """One schedule with its next few fire times."""
        found = schedules.get_schedule(default_store(), _schedule_id(schedule_id))
        return Output(schedule_document(found, schedules.UPCOMING_COUNT), schedule_text(found, schedules.UPCOMING_COUNT))

    def runs(self, schedule_id: str, limit: int = 50) -> Output:
        """The fire times the schedule claimed, newest first, with each run's id and status (times in the
        schedule's own zone, or --tz)."""
        store = default_store()
        full_schedule_id = _schedule_id(schedule_id)
        zone = schedules.get_schedule(store, full_schedule_id).spec.timezone
        fires = schedules.schedule_runs(store, full_schedule_id, limit=parse_int(limit, "--limit", 1))
        rows = [fire.to_json() for fire in fires]

        def in_zone(value: str | None) -> str:
            return shown_time(value, zone)

        text = render.table(
            rows,
            [("slotAt", "SLOT", in_zone), ("firedAt", "FIRED AT", in_zone),
             ("runId", "RUN ID"), ("runStatus", "STATUS"), ("error", "ERROR")],
            empty="This schedule has not fired yet.",
        )
        return Output(rows, text)

    def update(self, schedule_id: str, title: str | None = None, agent_uuid: str | None = None,
               frequency: str | None = None, minutes: str | None = None, hours: str | None = None,
               days_of_week: str | None = None, days_of_month: str | None = None, timezone: str | None = None,
               prompt: str | None = None, model_id: str | None = None, span_limit: int | None = None,
               lookback_hours: int | None = None, max_subagent_depth: int | None = None,
               max_turns: int | None = None, enabled: str | None = None, source: tuple[str, ...] = (),
               skip_invalid: str | None = None) -> Output:
        """Change any of the create flags; `--enabled false` pauses, a new cadence skips the slots already past."""
        changes = schedules.ScheduleChanges.from_flags(**_schedule_flags(locals()))
        updated = schedules.update_schedule(default_store(), _schedule_id(schedule_id), changes)
        return Output(updated.to_json(), "Updated.\n" + schedule_text(updated))

    def archive(self, schedule_id: str, yes: bool = False) -> Output:
        """Archive a schedule (it stops firing); asks first unless -y/--yes, and refuses without a terminal."""
        store = default_store()
        found = schedules.get_schedule(store, full_id(store, "schedule", schedule_id))
        if not parse_bool(yes, "--yes"):
            if JSON_MODE.get() or not (sys.stdin.isatty() and sys.stderr.isatty()):
                raise UsageError("schedule archive needs confirmation: pass --yes (no terminal to ask on)")
            sys.stderr.write(untrusted.terminal_line(f"Archive schedule {found.schedule_id} ({found.spec.title})? ")
                             + "[y/N] ")
            sys.stderr.flush()
            if sys.stdin.readline().strip().lower() not in ("y", "yes"):
                return Output(found.to_json(), "Not archived.", EXIT_ERROR)
        archived = schedules.archive_schedule(store, found.schedule_id)
        return Output(archived.to_json(), f"Archived {archived.schedule_id}; `halo-local schedule unarchive "
                                          f"{archived.schedule_id}` brings it back.")

    def unarchive(self, schedule_id: str) -> Output:
        """Bring an archived schedule back; the slots that passed meanwhile are not fired."""
        restored = schedules.unarchive_schedule(default_store(), _schedule_id(schedule_id))
        return Output(restored.to_json(), "Unarchived.\n" + schedule_text(restored))

    @real_defaults(now="now")
    def tick(self, now: str | None = None) -> Output:
        """Fire every schedule whose time has come, each fire time once; cron runs this every minute.

        A missed tick fires only the latest missed time. --now (ISO) ticks as if at that time (tests, back-fills).
        Runs fired without ANTHROPIC_API_KEY are heuristics-only, and the output says so.
        Exit code 1 when a schedule failed to fire (its error is recorded and shown).
        """
        moment = as_aware_utc(parse_timestamp(str(now), "--now") if now is not None else utc_now())
        store = default_store()
        fired = usecases.tick_schedules(store, moment)
        # Cron gives the tick a bare environment: without the key every run it starts is heuristics-only.
        heuristics_only = any(item.run_id for item in fired) and llm.llm_skip_reason(no_llm=False) is not None
        # Each fired schedule's latest ended fire (usually the previous one: the new run has just started).
        outcomes = schedules.last_outcomes(store) if fired else {}
        data = {"now": iso(moment), "heuristicsOnly": heuristics_only,
                "fired": [{**item.to_json(), "lastOutcome": outcomes.get(item.schedule_id)} for item in fired]}
        lines = [f"{iso(moment)} fired {len(fired)} schedule(s)"
                 + (f" (heuristics-only: no {API_KEY_ENV})" if heuristics_only else "")]
        for item in fired:
            outcome = f"run {item.run_id}" if item.run_id else f"FAILED: {item.error}"
            lines.append(f"  {item.schedule_id} ({item.title}) slot {iso(item.slot_at)}: {outcome}")
            lines.extend(f"    warning: {warning}" for warning in item.warnings)
            last = outcomes.get(item.schedule_id)
            if last is not None:
                lines.append(f"    last outcome: {schedules.outcome_text(last)} ({last['runId'] or 'no run'}, slot "
                             f"{last['slotAt']})")
        return Output(data, "\n".join(lines), EXIT_ERROR if any(item.error for item in fired) else EXIT_OK)

    def cron(self) -> Output:
        """The crontab line that runs `schedule tick` every minute for this $HALO_HOME, logging to a file in it.

        Install it with: (crontab -l 2>/dev/null; halo-local schedule cron) | crontab -
        """
        home = default_store().home
        line = schedules.cron_line(home, schedules.installed_executable())
        return Output({"cronLine": line, "home": str(home), "logFile": str(home / schedules.TICK_LOG_FILE)}, line)
