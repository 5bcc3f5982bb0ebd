"""One timestamp convention for the whole package.

Inside halo-local a moment is a naive `datetime` in UTC: that is what DuckDB's TIMESTAMP columns
store and return. Outside (JSON, flags, reports) it is ISO 8601 text ending in `Z`. Aware values are
accepted at the borders and converted; only cadence arithmetic across time zones keeps them aware.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload

from halo_local.errors import UsageError


def utc_now() -> datetime:
    """Now, as naive UTC (the stored form)."""
    return datetime.now(UTC).replace(tzinfo=None)


def as_naive_utc(value: datetime) -> datetime:
    """`value` as naive UTC: an aware value is converted, a naive one is taken to be UTC already."""
    return value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)


def as_aware_utc(value: datetime) -> datetime:
    """`value` as aware UTC: a naive value is taken to be UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@overload
def iso(value: datetime) -> str: ...
@overload
def iso(value: None) -> None: ...
@overload
def iso(value: datetime | None) -> str | None: ...
def iso(value: datetime | None) -> str | None:
    """`2026-04-24T18:00:00Z` (microseconds when present), the form every flag accepts; None stays None."""
    return None if value is None else as_naive_utc(value).isoformat() + "Z"


def parse_timestamp(value: str | datetime, flag: str) -> datetime:
    """An ISO 8601 date-time (an offset or Z; none means UTC) as naive UTC, or a UsageError naming `flag`."""
    if isinstance(value, datetime):
        return as_naive_utc(value)
    text = str(value).strip()
    try:
        parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text)
    except ValueError:
        raise UsageError(f"{flag} takes an ISO date-time such as 2026-04-24T18:00:00Z; got {value!r}") from None
    return as_naive_utc(parsed)
