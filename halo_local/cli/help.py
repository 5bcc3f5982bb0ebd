"""`COMMAND --help`: written here from the command's signature and docstring, not by fire.

fire's own help shows Python names (`--time_range`), Python types (`Optional['str | None']`), the
signature's `None` where the real default is decided later (`--lookback-hours`: 24), an `INFO:` line,
and invents short flags (`-h` for `--hours`). Here every flag is shown as it is typed, with the
default that applies; a flag whose signature default is None names its real one with `@real_defaults`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from halo_local.cli.output import Output

HELP_FLAGS = ("--help", "-h")
_REAL_DEFAULTS_ATTRIBUTE = "real_defaults"
_FLAG_COLUMN = 38

Command = TypeVar("Command", bound=Callable[..., Any])


def real_defaults(**defaults: object) -> Callable[[Command], Command]:
    """Name what a flag defaults to when its signature says None because the value is decided later
    (`--window-end-at`: now; `--lookback-hours`: 24); the help shows these instead of nothing."""

    def mark(command: Command) -> Command:
        setattr(command, _REAL_DEFAULTS_ATTRIBUTE, {name: str(value) for name, value in defaults.items()})
        return command

    return mark


def flag_name(parameter: str) -> str:
    """`time_range` -> `--time-range`, the spelling the README and the help use."""
    return "--" + parameter.replace("_", "-")


def command_help(target: Callable[..., Any], words: Sequence[str]) -> Output:
    """The help of one command: usage line, description, arguments and flags with their defaults."""
    command = " ".join(["halo-local", *words])
    signature = inspect.signature(target)
    shown = getattr(target, _REAL_DEFAULTS_ATTRIBUTE, {})
    arguments: list[dict[str, Any]] = []
    flags: list[dict[str, Any]] = []
    for name, parameter in signature.parameters.items():
        if parameter.kind is parameter.VAR_POSITIONAL:
            arguments.append({"name": f"{name.upper().removesuffix('S')}...", "repeatable": True})
        elif parameter.default is parameter.empty:
            arguments.append({"name": name.upper(), "repeatable": False})
        else:
            flags.append(_flag_entry(name, parameter, shown.get(name)))
    summary, _, details = (inspect.getdoc(target) or "").partition("\n")
    usage = " ".join([command, *(item["name"] for item in arguments), "[flags]" if flags else ""]).rstrip()
    lines = [f"Usage: {usage}", "", summary.strip()]
    if details.strip():
        lines += ["", details.strip()]
    if flags:
        lines += ["", "Flags:"]
        lines += [_flag_line(item) for item in flags]
    lines += [_column("--json", "print one JSON document (camelCase keys) instead of text"),
              _column("-h, --help", "show this help")]
    document = {"command": " ".join(words), "usage": usage, "summary": summary.strip(),
                "description": details.strip(), "arguments": arguments, "flags": flags}
    return Output(document, "\n".join(lines))


def _flag_entry(name: str, parameter: inspect.Parameter, real_default: str | None) -> dict[str, Any]:
    """One flag as the help shows it: its spelling, what it takes, and the default that applies."""
    default = parameter.default
    if isinstance(default, bool):
        takes, shown = "[true|false]", str(default).lower()
    elif isinstance(default, tuple):
        takes, shown = name.upper(), None
    else:
        takes, shown = _value_name(name, parameter.annotation), None if default is None else str(default)
    if real_default is not None:
        shown = real_default
    return {"flag": flag_name(name), "takes": takes, "default": shown, "repeatable": isinstance(default, tuple)}


def _value_name(name: str, annotation: Any) -> str:
    """What a flag takes: N for a whole number, SECONDS for a float (every float flag is seconds),
    else the flag's own name in capitals (`--agent-uuid AGENT_UUID`)."""
    kind = str(annotation).split("|")[0].strip()  # annotations are strings: `from __future__ import annotations`
    return {"int": "N", "float": "SECONDS"}.get(kind, name.upper())


def _flag_line(item: dict[str, Any]) -> str:
    notes = []
    if item["default"] is not None:
        notes.append(f"default: {item['default']}")
    if item["repeatable"]:
        notes.append("repeatable")
    return _column(f"{item['flag']} {item['takes']}", "; ".join(notes))


def _column(left: str, right: str) -> str:
    if not right:
        return f"  {left}"
    if len(left) > _FLAG_COLUMN - 2:
        return f"  {left}\n  {'':<{_FLAG_COLUMN - 2}}{right}"
    return f"  {left:<{_FLAG_COLUMN - 2}}{right}"
