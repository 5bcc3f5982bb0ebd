"""The README's command reference, written from each command's `--help` (run by cog, checked in `make test`).

`cog -r README.md` rewrites the block between the `[[[cog` markers; `cog --check README.md` fails
when the README no longer matches the CLI, so the two cannot drift.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from halo_local.cli.help import command_help
from halo_local.cli.parsing import commands_of
from halo_local.cli.program import HaloLocalCli


def all_commands() -> list[tuple[list[str], Callable[..., Any]]]:
    """Every (command words, method) of the program, in the order `halo-local` lists them."""
    found: list[tuple[list[str], Callable[..., Any]]] = []
    for name, member in commands_of(HaloLocalCli()).items():
        if inspect.ismethod(member):
            found.append(([name], member))
        else:
            found.extend(([name, sub], method) for sub, method in commands_of(member).items())
    return found


def command_reference() -> str:
    """Markdown: one folded section per command holding its help, exactly as `COMMAND --help` prints it."""
    sections = []
    for words, method in all_commands():
        shown = command_help(method, words)
        sections.append(
            f"<details><summary><code>halo-local {' '.join(words)}</code>: {_html(shown.data['summary'])}</summary>\n\n"
            f"```text\n{shown.text}\n```\n\n</details>\n"
        )
    return "\n".join(sections)


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
