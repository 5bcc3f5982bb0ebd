"""The command line before fire sees it: command words, aliases, flags checked and quoted, usage lines.

fire guesses types and lets a bare boolean swallow the next word; everything here makes the command
line strict and literal so that each command converts its own values.
"""

from __future__ import annotations

import difflib
import inspect
import json
from collections.abc import Callable, Sequence
from typing import Any

from halo_local.cli.help import HELP_FLAGS
from halo_local.cli.output import Output
from halo_local.errors import UsageError
from halo_local.flags import FALSE_WORDS, TRUE_WORDS, parse_bool

COMMAND_ALIASES = {"ls": "list", "conv": "conversation"}


def commands_of(component: Any) -> dict[str, Any]:
    """The groups and commands of the program, or the commands of a group, in the order they are defined."""
    names = [*vars(component), *vars(type(component))]
    return {name: getattr(component, name) for name in names if not name.startswith("_")}


def resolve_target(root: Any, args: Sequence[str]) -> tuple[Any, list[str], int]:
    """Walk the command words to the method (or bare group) they name; returns (it, names, index after them).

    Aliases (`ls`, `conv`) apply to these command words only, never to values further on.
    """
    component = root
    words: list[str] = []
    index = 0
    while index < len(args) and not args[index].startswith("-"):
        typed = args[index]
        word = COMMAND_ALIASES.get(typed, typed).replace("-", "_")
        members = list(commands_of(component))
        if word not in members:
            where = " ".join(["halo-local", *words])
            close = difflib.get_close_matches(word, members, n=1)
            hint = f"did you mean `{where} {close[0]}`?" if close else f"`{where}` lists the commands"
            raise UsageError(f"unknown command {typed!r} for `{where}`", hint=hint)
        words.append(word)
        component = getattr(component, word)
        index += 1
        if inspect.ismethod(component):
            break
    return component, words, index


def positional_names(target: Callable[..., Any]) -> list[str]:
    """What a command takes by position (TRACE_ID, PATH...): its required parameters and *args; the rest are flags."""
    names = []
    for name, parameter in inspect.signature(target).parameters.items():
        if parameter.kind is parameter.VAR_POSITIONAL:
            names.append(f"{name.upper().removesuffix('S')}...")
        elif parameter.default is parameter.empty:
            names.append(name.upper())
    return names


def _usage(target: Callable[..., Any], words: Sequence[str]) -> str:
    """`halo-local span get SPAN_ID [--trace-id]`: the command line a command takes (long flag lists via --help)."""
    command = " ".join(["halo-local", *words])
    flags = [f"[--{name.replace('_', '-')}]" for name, parameter in inspect.signature(target).parameters.items()
             if parameter.default is not parameter.empty]
    if len(flags) > 8:
        flags = [f"[flags: `{command} --help` lists them]"]
    return " ".join([command, *positional_names(target), *flags])


def normalize_flags(target: Callable[..., Any], words: list[str], rest: list[str]) -> list[str] | None:
    """Refuse unknown flags and stray words; make bare booleans explicit so they never swallow the next word.

    Only required parameters and *args are filled by position, so a stray word is an error instead
    of the value of whichever option comes next in the signature (fire's default). None when the
    command line asks for help: `--help` or `-h` where a flag stands (never a short `--hours`).
    """
    parameters = inspect.signature(target).parameters
    names = {name for name, p in parameters.items() if p.kind is not inspect.Parameter.VAR_POSITIONAL}
    booleans = {name for name in names if isinstance(parameters[name].default, bool)}
    repeatable = {name for name in names if isinstance(parameters[name].default, tuple)}  # e.g. --source A --source B
    repeated: dict[str, list[str]] = {}
    command = " ".join(["halo-local", *words])
    result: list[str] = []
    positional: list[str] = []
    given: set[str] = set()
    switch_before: dict[int, str] = {}  # positional word number -> the bare boolean flag just before it
    bare_switch: str | None = None
    index = 0
    while index < len(rest):
        token = rest[index]
        index += 1
        if token in HELP_FLAGS:
            return None
        if token == "--":  # what follows is fire's own flags (--trace, --verbose); its help is ours
            return None if any(item in HELP_FLAGS for item in rest[index:]) else result + rest[index - 1:]
        if not token.startswith("-") or _is_number(token):
            if bare_switch:
                switch_before[len(positional)] = bare_switch
            positional.append(token)
            result.append(token)
            bare_switch = None
            continue
        flag, has_value, value = token.lstrip("-").partition("=")
        name = flag.replace("-", "_")
        if token.startswith("-") and not token.startswith("--"):
            matches = [candidate for candidate in names if candidate.startswith(name)]
            if len(matches) != 1:
                raise UsageError(f"unknown flag {token!r} for `{command}`", hint=f"`{command} --help` lists its flags")
            name = matches[0]
        if name not in names:
            close = difflib.get_close_matches(name, list(names), n=1)
            hint = f"did you mean --{close[0].replace('_', '-')}?" if close else f"`{command} --help` lists its flags"
            raise UsageError(f"unknown flag --{flag} for `{command}`", hint=hint)
        given.add(name)
        if name in booleans:
            if not has_value and index < len(rest) and rest[index].lower() in TRUE_WORDS | FALSE_WORDS:
                value, has_value = rest[index], "="  # as if written --flag=value
                index += 1
            flag_on = parse_bool(value, "--" + flag) if has_value else True
            result.append(f"--{name}={flag_on}")
            bare_switch = None if has_value else token
            continue
        bare_switch = None
        if not has_value:
            if index >= len(rest):
                raise UsageError(f"--{flag} needs a value")
            value = rest[index]
            index += 1
        if name in repeatable:
            repeated.setdefault(name, []).append(value)
            continue
        result.append(f"--{name}={value}")
    _check_positional(target, words, positional, given, switch_before)
    return result + [f"--{name}={json.dumps(values)}" for name, values in repeated.items()]


def _check_positional(target: Callable[..., Any], words: list[str], positional: list[str], given: set[str],
                      switch_before: dict[int, str]) -> None:
    """UsageError unless the bare words fill exactly the positional parameters not given as flags."""
    parameters = inspect.signature(target).parameters
    wanted = [name for name, p in parameters.items()
              if p.default is p.empty and p.kind is not p.VAR_POSITIONAL and name not in given]
    takes_any = any(p.kind is p.VAR_POSITIONAL for p in parameters.values())
    command, usage = " ".join(words), f"usage: {_usage(target, words)}"
    if len(positional) < len(wanted):
        missing = " and ".join(name.upper() for name in wanted[len(positional):])
        raise UsageError(f"{command} needs {missing}", hint=usage)
    if len(positional) > len(wanted) and not takes_any:
        extra = len(wanted)
        switch = switch_before.get(extra)
        hint = f"{switch} is a switch ({switch}=false turns it off); {usage}" if switch else usage
        raise UsageError(f"unexpected argument {positional[extra]!r} for `{command}`", hint=hint)


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def split_json_flag(args: list[str]) -> tuple[list[str], bool]:
    """Take `--json` (or `--json=true/false`) out of the arguments, wherever it stands."""
    wanted = False
    kept = []
    for token in args:
        if token == "--json":
            wanted = True
        elif token.startswith("--json="):
            wanted = parse_bool(token.split("=", 1)[1], "--json")
        else:
            kept.append(token)
    return kept, wanted


def quote_values(args: list[str]) -> list[str]:
    """Make fire keep every value a string (`123` would become an int, `9,10` a tuple).

    Commands convert values themselves; only the explicit booleans made by `normalize_flags` stay bare.
    """
    quoted = []
    for token in args:
        if token.startswith("--") and "=" in token:
            name, value = token.split("=", 1)
            if value not in ("True", "False"):
                token = f"{name}={json.dumps(value)}"
        elif not token.startswith("-"):
            token = json.dumps(token)
        quoted.append(token)
    return quoted


def usage_output(component: Any, words: list[str]) -> Output:
    """What a bare `halo-local` or `halo-local GROUP` prints: its commands, one line each."""
    rows: list[tuple[str, str]] = []
    commands: list[str] = []
    for name, member in commands_of(component).items():
        if inspect.ismethod(member):
            call = " ".join([name, *positional_names(member)])
            rows.append((call, (member.__doc__ or "").strip().splitlines()[0]))
            commands.append(" ".join([*words, call]))
        else:
            rows.append((name, ", ".join(commands_of(member))))
            commands += [" ".join([*words, name, sub, *positional_names(method)])
                         for sub, method in commands_of(member).items()]
    width = max(len(left) for left, _ in rows) + 2
    lines = [f"Usage: {' '.join(['halo-local', *words])} COMMAND [ARGS] [--json]", ""]
    lines += [f"  {left:<{width}}{right}" for left, right in rows]
    lines += ["", "`halo-local GROUP` lists a group's commands; `COMMAND --help` shows a command's flags." if not words
              else f"`halo-local {' '.join(words)} COMMAND --help` shows a command's flags."]
    return Output({"commands": commands}, "\n".join(lines))
