"""Run options: the defaults and limits a run is created with, and the analysed window."""

from __future__ import annotations

from datetime import datetime, timedelta

from halo_local.common.timestamps import iso, parse_timestamp, utc_now
from halo_local.errors import UsageError
from halo_local.flags import parse_int

DEFAULT_PROMPT = (
    "Find what makes this agent fail, slow or expensive. Rank the issues by impact, explain the "
    "likely cause of each with evidence from the traces, and give a concrete fix a coding agent can apply."
)
DEFAULT_CANCEL_REASON = "user-cancelled"
DEFAULT_LOOKBACK_HOURS = 24
DEFAULT_SPAN_LIMIT = 10_000
DEFAULT_MAX_SUBAGENT_DEPTH = 3
DEFAULT_MAX_TURNS = 50
DEFAULT_TIME_LIMIT_SECONDS = 30 * 60
MAX_SPAN_LIMIT = 1_000_000
MAX_LOOKBACK_HOURS = 876_000  # 100 years: further back, datetime arithmetic overflows


def resolve_window(
    window_start_at: str | datetime | None,
    window_end_at: str | datetime | None,
    lookback_hours: int | None = None,
    now: datetime | None = None,
) -> tuple[datetime, datetime]:
    """The analysed window [start, end): end defaults to now, start to end minus the lookback (default 24 h).

    A lookback together with a start is refused rather than ignored: the start alone decides where the
    window begins.
    """
    hours = (DEFAULT_LOOKBACK_HOURS if lookback_hours is None
             else parse_int(lookback_hours, "--lookback-hours", 1, MAX_LOOKBACK_HOURS))
    if window_start_at is not None and lookback_hours is not None:
        raise UsageError(
            f"--lookback-hours {hours} conflicts with --window-start-at: the window starts at "
            "--window-start-at, so the lookback would be ignored",
            hint="give --window-start-at (and --window-end-at) for an exact window, or --lookback-hours "
                 "to count back from --window-end-at (default now), not both",
        )
    end = parse_timestamp(window_end_at, "--window-end-at") if window_end_at is not None else (now or utc_now())
    if window_start_at is not None:
        start = parse_timestamp(window_start_at, "--window-start-at")
    else:
        try:
            start = end - timedelta(hours=hours)
        except OverflowError:
            raise UsageError(f"--lookback-hours {hours} from {iso(end)} reaches before the year 1") from None
    if start >= end:
        raise UsageError(
            f"--window-start-at ({iso(start)}) must be before --window-end-at ({iso(end)})"
        )
    return start, end
