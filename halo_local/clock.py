"""The monotonic clock that run time limits and LLM retry waits read, swappable in one place.

Deadlines are measured with `monotonic()` and waits go through `sleep()`, so a test can install a
clock that moves only when told to (`current`) and trip a time limit or a retry-after at a chosen
moment, however loaded the machine is, instead of racing the wall clock.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock: `time.monotonic` and `time.sleep`."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


current: Clock = SystemClock()


def monotonic() -> float:
    """Seconds on the current clock (only differences mean anything)."""
    return current.monotonic()


def sleep(seconds: float) -> None:
    """Wait `seconds` on the current clock."""
    current.sleep(seconds)
