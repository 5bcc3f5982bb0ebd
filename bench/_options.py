"""The bench scripts' command line: python-fire, with its guessed value types made explicit.

fire types values by their look (`1000000` is an int, `100000,1000000` a tuple, `--json=false` the
string 'false') and reports a misspelled flag only after the command ran, which for a bench means
after minutes of work; so every script converts its options here and `run` checks the flag names
against the script's `main` before anything runs.
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import fire

ListOption = str | int | float | tuple[Any, ...] | list[Any] | None


def usage_error(message: str) -> SystemExit:
    """The exit argparse gave a bad command line: the message on stderr, status 2."""
    print(f"error: {message}", file=sys.stderr)
    return SystemExit(2)


def text_list(value: ListOption) -> list[str]:
    """`a,b`, `("a", "b")` or `""` as its non-empty items (fire splits plain comma lists into tuples)."""
    if value is None:
        return []
    items = [str(item) for item in value] if isinstance(value, tuple | list) else str(value).split(",")
    return [item.strip() for item in items if item.strip()]


def whole_number(value: Any, flag: str) -> int:
    """An integer option: fire hands over `1e6` as a float and `1_000` as an int."""
    if isinstance(value, bool):
        raise usage_error(f"{flag} must be a whole number, not {value!r}")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    try:
        return int(str(value).replace("_", "")) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        raise usage_error(f"{flag} must be a whole number, not {value!r}") from None


def number_list(value: ListOption, flag: str) -> list[int]:
    """`100000,1000000` (a tuple from fire), `1000000` (an int) or `""` (none) as integers."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [whole_number(value, flag)]
    return [whole_number(item, flag) for item in text_list(value)]


def switch(value: Any, flag: str) -> bool:
    """A flag given bare (True), as --noflag (False), or spelled `--flag=false` (fire's string)."""
    if isinstance(value, bool):
        return value
    spelled = str(value).strip().lower()
    if spelled in ("true", "yes", "1"):
        return True
    if spelled in ("false", "no", "0"):
        return False
    raise usage_error(f"{flag} takes no value (or true/false), not {value!r}")


def path_option(value: Any) -> Path:
    """A path option: fire may have typed a numeric-looking name as a number."""
    return Path(str(value))


def choice(value: Any, flag: str, allowed: Sequence[str]) -> str:
    """One of a fixed set of words, as argparse's `choices` checked it."""
    if str(value) not in allowed:
        raise usage_error(f"{flag} must be one of {', '.join(allowed)}, not {value!r}")
    return str(value)


def _check_flags(main: Callable[..., Any], args: Sequence[str]) -> None:
    """Refuse unknown flags and stray words before the bench starts (fire would say so only after)."""
    parameters = inspect.signature(main).parameters
    known = {name.replace("_", "-") for name in parameters}
    switches = {name.replace("_", "-") for name, parameter in parameters.items() if parameter.default is False}
    expects_value = False
    for arg in args:
        if arg == "--":
            return
        if arg in ("--help", "-h"):
            return
        if arg.startswith("-") and not arg[1:2].isdigit():
            name, has_value, _ = arg.lstrip("-").partition("=")
            name = name.replace("_", "-")
            if not arg.startswith("--"):  # fire's short flag: a first letter no other option shares
                name = next((flag for flag in known if flag[0] == name and len(name) == 1
                             and sum(other[0] == name for other in known) == 1), arg)
            negated = name.startswith("no") and name[2:] in switches
            if name not in known and not negated:
                raise usage_error(f"unrecognized argument {arg} (options: "
                                  + ", ".join(f"--{flag}" for flag in sorted(known)) + ")")
            expects_value = not has_value and not negated and name not in switches
        elif expects_value:
            expects_value = False
        else:
            raise usage_error(f"unrecognized argument {arg!r}: every option is a --flag")


def run_with_fire(main: Callable[..., Any], description: str) -> None:
    """Run `main` under fire with the script's docstring (then main's own, its Args) as its --help."""
    main.__doc__ = description + (f"\n\n{inspect.cleandoc(main.__doc__)}" if main.__doc__ else "")
    _check_flags(main, sys.argv[1:])
    os.environ.setdefault("PAGER", "cat")  # fire's help would otherwise open a pager on a terminal
    fire.Fire(main, serialize=lambda _: None)
