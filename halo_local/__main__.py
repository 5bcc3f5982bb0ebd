"""The `halo-local` console script (and `python -m halo_local`).

It imports the CLI inside `main` so that Ctrl-C while the CLI's modules still load (a few tenths
of a second) ends like any other interrupt, instead of with a traceback from the import.
"""

from __future__ import annotations

import sys

EXIT_INTERRUPTED = 130  # the CLI's own code for an interrupt; the CLI module may not be loaded yet


def main() -> int:
    try:
        from halo_local.cli import main as run_cli
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED
    return run_cli()


if __name__ == "__main__":
    sys.exit(main())
