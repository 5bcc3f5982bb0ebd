"""Run options: the defaults, limits and checks a run is created with (`RunOptions`), and the window."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import ClassVar

from halo_local.common.timestamps import iso, parse_timestamp, utc_now
from halo_local.errors import UsageError
from halo_local.flags import parse_int
from halo_local.llm.agent import MAX_SUBAGENT_DEPTH_CEILING, MAX_TURNS_CEILING

DEFAULT_PROMPT = (
    "Find what makes this agent fail, slow or expensive. Rank the issues by impact, explain the "
    "likely cause of each with evidence from the traces, and give a concrete fix a coding agent can apply."
)
DEFAULT_CANCEL_REASON = "user-cancelled"
DEFAULT_LOOKBACK_HOURS = 24
MAX_SPAN_LIMIT = 1_000_000
MAX_LOOKBACK_HOURS = 876_000  # 100 years: further back, datetime arithmetic overflows


@dataclass(frozen=True)
class IntBound:
    """The whole numbers an option accepts, and the flag its errors name."""

    flag: str
    minimum: int
    maximum: int | None = None

    def check(self, value: object) -> int:
        """`value` (fire may hand over `"50"` for 50) as an int within bounds, else a UsageError."""
        return parse_int(value, self.flag, self.minimum, self.maximum)

    def describe(self) -> str:
        """`1 to 1,000,000` or `at least 1`, for help texts and tool schemas."""
        return f"{self.minimum:,} to {self.maximum:,}" if self.maximum is not None else f"at least {self.minimum:,}"

    def json_schema(self) -> dict[str, int]:
        """`minimum`/`maximum` for a JSON schema (the MCP tools')."""
        return {"minimum": self.minimum} | ({"maximum": self.maximum} if self.maximum is not None else {})


@dataclass(frozen=True)
class RunOptions:
    """How one run analyses: the defaults, limits and checks of every run option, written once.

    The CLI flags, schedules, the MCP tools and `create_run` read their defaults and bounds from here;
    constructing one validates it (and converts fire's guessed values), so a `RunOptions` is always
    within `BOUNDS`. `prompt` None and `model_id` None mean the defaults (DEFAULT_PROMPT, the
    configured model); `lookback_hours` None means DEFAULT_LOOKBACK_HOURS unless a window start is given.
    """

    prompt: str | None = None
    model_id: str | None = None
    no_llm: bool = False
    lookback_hours: int | None = None
    span_limit: int = 10_000
    max_subagent_depth: int = 3
    max_turns: int = 50
    time_limit_seconds: int = 30 * 60

    BOUNDS: ClassVar[Mapping[str, IntBound]] = MappingProxyType({
        "lookback_hours": IntBound("--lookback-hours", 1, MAX_LOOKBACK_HOURS),
        "span_limit": IntBound("--span-limit", 1, MAX_SPAN_LIMIT),
        "max_subagent_depth": IntBound("--max-subagent-depth", 1, MAX_SUBAGENT_DEPTH_CEILING),
        "max_turns": IntBound("--max-turns", 1, MAX_TURNS_CEILING),
        "time_limit_seconds": IntBound("time_limit_seconds", 1),
    })

    def __post_init__(self) -> None:
        for name, bound in self.BOUNDS.items():
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, bound.check(value))
        text = None if self.prompt is None else str(self.prompt).strip()
        object.__setattr__(self, "prompt", text or None)
        object.__setattr__(self, "model_id", None if self.model_id is None else str(self.model_id))
        object.__setattr__(self, "no_llm", bool(self.no_llm))

    @property
    def prompt_text(self) -> str:
        """The prompt the run records: the given one, else DEFAULT_PROMPT."""
        return self.prompt or DEFAULT_PROMPT


DEFAULTS = RunOptions()
DEFAULT_SPAN_LIMIT = DEFAULTS.span_limit
DEFAULT_MAX_SUBAGENT_DEPTH = DEFAULTS.max_subagent_depth
DEFAULT_MAX_TURNS = DEFAULTS.max_turns
DEFAULT_TIME_LIMIT_SECONDS = DEFAULTS.time_limit_seconds


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
             else RunOptions.BOUNDS["lookback_hours"].check(lookback_hours))
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
