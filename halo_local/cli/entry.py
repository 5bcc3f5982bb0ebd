"""`main`: one command line in, one JSON document or human text out, errors as one line with an exit code."""

from __future__ import annotations

import inspect
import json
import os
import sys
from collections.abc import Sequence

import fire

from halo_local import untrusted
from halo_local.cli.help import HELP_FLAGS, command_help
from halo_local.cli.output import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_PIPE_CLOSED, JSON_MODE, Output
from halo_local.cli.parsing import normalize_flags, quote_values, resolve_target, split_json_flag, usage_output
from halo_local.cli.program import HaloLocalCli
from halo_local.common.package import package_version
from halo_local.errors import HaloLocalError, UsageError
from halo_local.store import Store, environment_failure


def run(args: Sequence[str]) -> Output | None:
    """Parse and run one command line (--json already taken out); returns its Output (help included)."""
    args = list(args)
    if args == ["--version"]:
        version = package_version() or "unknown (not installed)"
        return Output({"version": version}, f"halo-local {version}")
    root = HaloLocalCli()
    target, words, index = resolve_target(root, args)
    rest = args[index:]
    if inspect.ismethod(target):
        flags = normalize_flags(target, words, rest)
        if flags is None:
            return command_help(target, words)
        args = words + quote_values(flags)
    elif not rest or rest[0] in HELP_FLAGS:
        return usage_output(target, words)
    else:
        where = " ".join(["halo-local", *words])
        raise UsageError(f"unknown flag {rest[0]!r} for `{where}`",
                         hint=f"`{where}` lists the commands; flags go after the command")
    os.environ.setdefault("PAGER", "cat")
    result = fire.Fire(root, command=args, name="halo-local", serialize=lambda _: None)
    return result if isinstance(result, Output) else None


def _error_document(message: str, hint: str | None, exit_code: int) -> str:
    """The one JSON document a failing command prints on stdout under --json."""
    document = json.dumps({"error": {"message": message, "hint": hint, "exitCode": exit_code}}, ensure_ascii=False)
    return untrusted.json_text(document)


def _print_error(json_mode: bool, exit_code: int, message: str, hint: str | None = None) -> int:
    """`Error: ...` (and `Hint: ...`) on stderr; with --json also the error document on stdout."""
    if json_mode:
        print(_error_document(message, hint, exit_code))
    print(f"Error: {untrusted.terminal_text(message)}", file=sys.stderr)
    if hint:
        print(f"Hint: {untrusted.terminal_text(hint)}", file=sys.stderr)
    return exit_code


def _is_interrupted_query(error: Exception) -> bool:
    """DuckDB turns a Ctrl-C that arrives during a query into RuntimeError('Query interrupted')."""
    return isinstance(error, RuntimeError) and str(error) == "Query interrupted"


def _interrupted(json_mode: bool) -> int:
    if json_mode:
        print(_error_document("interrupted", None, EXIT_INTERRUPTED))
    print("Interrupted.", file=sys.stderr)
    return EXIT_INTERRUPTED


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run, print one JSON document or human text on stdout, errors on stderr."""
    json_mode = False
    try:
        args, json_mode = split_json_flag(list(sys.argv[1:] if argv is None else argv))
        JSON_MODE.set(json_mode)
        output = run(args)
    except HaloLocalError as error:
        return _print_error(json_mode, error.exit_code, error.message, error.hint)
    except fire.core.FireExit as done:
        if done.code and json_mode:  # fire has explained the problem on stderr already
            print(_error_document("the command line could not be parsed", None, int(done.code)))
        return int(done.code or 0)
    except KeyboardInterrupt:
        return _interrupted(json_mode)
    except Exception as error:
        if _is_interrupted_query(error):
            return _interrupted(json_mode)
        if os.environ.get("HALO_DEBUG"):
            raise
        named = environment_failure(error, Store().db_path)  # disk full, damaged database, ... met outside the store
        if named is not None:
            return _print_error(json_mode, named.exit_code, named.message, named.hint)
        where = "".join(f" ({note})" for note in getattr(error, "__notes__", []))
        return _print_error(json_mode, EXIT_ERROR, f"unexpected {type(error).__name__}: {error}{where}",
                            "this is a bug in halo-local; HALO_DEBUG=1 shows the traceback")
    if output is None:
        return EXIT_OK
    try:
        if json_mode:
            print(untrusted.json_text(json.dumps(output.data, ensure_ascii=False, default=str)))
        elif output.text:
            print(untrusted.terminal_text(output.text))
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader stopped early (`| head`): nothing is wrong, and nothing more can be written.
        # Point stdout at /dev/null so that Python's flush at exit does not complain either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_PIPE_CLOSED
    return output.exit_code
