"""The `halo-local` command line: a thin fire adapter over the Python API.

Each command converts its flags explicitly (fire guesses types: `9,10` arrives as a tuple, `09`
as a string), calls one API function and returns an `Output` holding both the JSON document and
the human text. `main()` owns everything fire gets wrong for scripts: unknown flags are refused
before anything runs, bare boolean flags cannot swallow the next argument, `--json` works on
every command, and errors are one line on stderr with a documented exit code.

Layout: `entry` (main), `parsing` (the command line before fire), `help` (COMMAND --help, written
here rather than by fire), `reference` (the README's generated command reference), `output` (Output,
exit codes), `text` (shared human text), `program` (the command tree and top-level commands), and
one module per command group: `trace_commands`, `run_commands`, `conversation_commands`,
`schedule_commands`.
"""

from __future__ import annotations

from halo_local import traces  # tests patch `cli.traces.list_agents`
from halo_local.cli.entry import main, run
from halo_local.cli.output import (
           EXIT_ERROR,
           EXIT_INTERRUPTED,
           EXIT_OK,
           EXIT_PIPE_CLOSED,
           JSON_MODE,
           Output,
           print_event,
)
from halo_local.cli.program import HaloLocalCli

__all__ = ["EXIT_ERROR", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_PIPE_CLOSED", "JSON_MODE", "HaloLocalCli", "Output",
           "main", "print_event", "run", "traces"]
