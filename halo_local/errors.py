"""One error family: every user-facing failure is a message plus an optional hint.

The CLI's single handler prints `Error: <message>` (and `Hint: <hint>`) on stderr and exits
with `exit_code`; nothing else in the code base prints errors or calls sys.exit.
"""

from __future__ import annotations


class HaloLocalError(Exception):
    """A failure the user can act on; never shown with a traceback."""

    exit_code: int = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(HaloLocalError):
    """A command line that cannot mean anything: unknown flag, bad value, missing argument."""

    exit_code = 2


class NoTracesError(HaloLocalError):
    """Trace files that were read but hold no spans: nothing to analyse, as for a run ending no_traces."""

    exit_code = 6


class NotFoundError(HaloLocalError):
    """An id (agent, trace, span, run, conversation, schedule) that is not stored."""


class InvalidTraceFileError(HaloLocalError):
    """A trace file that cannot be loaded; names the file and the line or byte offset."""

    def __init__(self, path: str, message: str, line: int | None = None,
                 byte_offset: int | None = None, hint: str | None = None) -> None:
        where = path
        if line is not None:
            where += f":{line}"
        elif byte_offset is not None:
            where += f" (byte {byte_offset})"
        super().__init__(f"{where}: {message}", hint)
        self.path = path
        self.line = line
        self.byte_offset = byte_offset
        self.reason = message


class NotTraceFileError(InvalidTraceFileError):
    """Valid JSON that is no trace export (a labels.json or package.json beside the traces): a load of
    a directory or glob leaves it alone; a file named on its own is still an error."""


class DatabaseBusyError(HaloLocalError):
    """Another process held the database for longer than we are willing to wait."""


class EnvironmentFailure(HaloLocalError):
    """The machine failed, not the input or the code: a damaged database, a full disk, a refused
    permission, memory run out. The message names the path and the next step, on one line."""

    def during(self, activity: str) -> EnvironmentFailure:
        """The same failure with what was being done put first (`while loading PATH: ...`)."""
        return type(self)(f"{activity}: {self.message}", self.hint)


class DatabaseDamagedError(EnvironmentFailure):
    """The database file (or a file beside it) cannot be read back: truncated, overwritten, bit rot."""

    exit_code = 8


class DiskFullError(EnvironmentFailure):
    """A write failed for lack of space (ENOSPC, or the disk quota)."""

    exit_code = 9


class PermissionDeniedError(EnvironmentFailure):
    """The operating system refused to let us read or write a path."""

    exit_code = 10


class MemoryExhaustedError(EnvironmentFailure):
    """DuckDB (or Python) could not get the memory a command needed within HALO_MEMORY_LIMIT."""

    exit_code = 11
