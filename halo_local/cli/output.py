"""What every command shares: its `Output`, the exit codes, the --json switch, the store, progress lines."""

from __future__ import annotations

import contextvars
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from halo_local import untrusted
from halo_local.cli.zone import shown_clock
from halo_local.runs.run_document import RunEvent
from halo_local.store import Store

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_INTERRUPTED = 130
EXIT_PIPE_CLOSED = 141  # as a shell reports a command killed by SIGPIPE (`... | head`)

# Whether this invocation asked for --json: interactive prompts are refused then.
JSON_MODE: contextvars.ContextVar[bool] = contextvars.ContextVar("json_mode", default=False)


@dataclass
class Output:
    """What a command produced: `data` for --json, `text` for people, and the exit code."""

    data: Any
    text: str
    exit_code: int = EXIT_OK


def default_store() -> Store:
    return Store()


def progress_printer() -> Callable[[int, int, Path], None] | None:
    """A one-line progress display on stderr, only when stderr is a terminal."""
    if not sys.stderr.isatty():
        return None

    def show(index: int, total: int, path: Path) -> None:
        width = 24
        filled = int(width * index / max(total, 1))
        shown = untrusted.terminal_line(str(path)[-60:])
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {index}/{total} {shown:<60}")
        if index == total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show


def print_event(event: RunEvent) -> None:
    """One progress line on stderr per run event (stdout stays the command's result)."""
    line = f"{shown_clock(event.at)}  {event.kind:<15} {event.message}"
    sys.stderr.write(untrusted.terminal_line(line) + "\n")
    sys.stderr.flush()
