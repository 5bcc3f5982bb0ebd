"""A clock for `halo_local.clock` that a test moves, so time limits and retry waits trip on cue."""

from __future__ import annotations

import threading
import time


class FakeClock:
    """A monotonic clock that moves only when a test advances it or code sleeps on it (instantly)."""

    def __init__(self, start: float = 1_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self.slept = 0.0

    def monotonic(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self._now += max(0.0, seconds)
            self.slept += max(0.0, seconds)
        time.sleep(0)  # let other threads run, as a real sleep would

    def advance(self, seconds: float) -> None:
        """Move time on, e.g. past a run's time limit, without waiting for it."""
        with self._lock:
            self._now += seconds
