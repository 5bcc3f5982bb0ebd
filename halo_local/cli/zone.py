"""The time zone text output shows times in: the user's local zone, `--tz ZONE`, or a schedule's own.

Stored times and --json stay UTC ISO-8601 (`...Z`); only the text people read is converted, and each
shown time carries its zone's abbreviation so that no time is ambiguous.
"""

from __future__ import annotations

import contextvars
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from halo_local.errors import UsageError

# The zone `--tz` named for this invocation; None: the machine's local zone.
DISPLAY_ZONE: contextvars.ContextVar[tzinfo | None] = contextvars.ContextVar("display_zone", default=None)


def zone_named(name: str) -> tzinfo:
    """The IANA zone `name` (`Europe/Paris`, `UTC`), or a UsageError naming --tz."""
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"--tz {name!r} is not an IANA time zone",
                         hint="e.g. --tz UTC, --tz Europe/Paris, --tz America/New_York") from None


def split_tz_flag(args: list[str]) -> tuple[list[str], tzinfo | None]:
    """Take `--tz ZONE` (or `--tz=ZONE`) out of the arguments, wherever it stands, as `--json` is."""
    kept: list[str] = []
    zone: tzinfo | None = None
    index = 0
    while index < len(args):
        token = args[index]
        index += 1
        if token == "--tz":
            if index >= len(args):
                raise UsageError("--tz needs a value", hint="e.g. --tz Europe/Paris")
            zone = zone_named(args[index])
            index += 1
        elif token.startswith("--tz="):
            zone = zone_named(token.split("=", 1)[1])
        else:
            kept.append(token)
    return kept, zone


def display_zone(own: str | None = None) -> tzinfo | None:
    """`--tz` when given, else `own` (a schedule's zone) when given, else None: the machine's local
    zone, whose offset `astimezone()` takes per moment (summer and winter time differ)."""
    chosen = DISPLAY_ZONE.get()
    if chosen is not None:
        return chosen
    return zone_named(own) if own else None


def shown_time(value: str | None, own_zone: str | None = None) -> str:
    """A UTC ISO time from the API as `2026-04-24 20:00:00 CEST` in the display zone; `-` when missing."""
    if not value:
        return "-"
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(display_zone(own_zone))
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname() or ''}".rstrip()


def shown_clock(value: str | None) -> str:
    """Only the time of day (`20:00:00`), for progress lines."""
    return shown_time(value)[11:19] if value else "--:--:--"
