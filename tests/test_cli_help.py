"""Help that tells the truth: flags as they are typed, the defaults that apply, `-h` for help only."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from halo_local import cli, runs
from halo_local.cli.help import is_optional_argument
from halo_local.cli.reference import all_commands
from halo_local.store import Store


def help_of(words: list[str], capsys: pytest.CaptureFixture[str], flag: str = "--help") -> str:
    assert cli.main([*words, flag]) == 0, words
    captured = capsys.readouterr()
    assert captured.err == "", words
    return captured.out


def test_every_command_help_shows_hyphenated_flags_and_no_python(capsys: pytest.CaptureFixture[str]) -> None:
    commands = all_commands()
    assert len(commands) >= 30
    for words, method in commands:
        text = help_of(words, capsys)
        assert text.startswith(f"Usage: halo-local {' '.join(words)}"), text
        for leak in ("INFO:", "Type:", "Optional[", "NoneType", "Default: None", "SYNOPSIS"):
            assert leak not in text, (words, leak, text)
        assert "  -h, --help" in text
        flags = [line.split()[0] for line in text.splitlines() if line.startswith("  --")]
        assert all("_" not in flag for flag in flags), (words, flags)
        wanted = [f"--{name.replace('_', '-')}" for name, parameter in inspect.signature(method).parameters.items()
                  if parameter.default is not parameter.empty and not is_optional_argument(method, name)]
        assert [flag for flag in flags if flag != "--json"] == wanted, words


def test_help_shows_the_default_that_applies(capsys: pytest.CaptureFixture[str]) -> None:
    lines = {line.split()[0]: line for line in help_of(["run", "create"], capsys).splitlines()
             if line.startswith("  --")}
    assert lines["--lookback-hours"].split() == ["--lookback-hours", "N", "default:",
                                                 str(runs.DEFAULT_LOOKBACK_HOURS)]
    assert lines["--window-end-at"].endswith("default: now")
    assert lines["--span-limit"].split()[-1] == str(runs.DEFAULT_SPAN_LIMIT)
    assert lines["--no-llm"].split() == ["--no-llm", "[true|false]", "default:", "false"]
    schedule = help_of(["schedule", "create"], capsys)
    assert "  --skip-invalid [true|false]" in schedule and "default: true" in schedule
    assert any(line.split()[:2] == ["--source", "SOURCE"] and line.endswith("repeatable")
               for line in schedule.splitlines())
    poll = help_of(["run", "poll"], capsys)
    assert any(line.split() == ["--timeout", "SECONDS", "default:", "1800"] for line in poll.splitlines())


def test_dash_h_is_help_never_hours(capsys: pytest.CaptureFixture[str]) -> None:
    text = help_of(["schedule", "create"], capsys, flag="-h")
    assert text == help_of(["schedule", "create"], capsys)
    assert "  --hours HOURS" in text
    # After other flags, and even where fire would take it as a short flag, -h still asks for help.
    assert cli.main(["schedule", "create", "--title", "t", "-h", "9"]) == 0
    assert capsys.readouterr().out.startswith("Usage: halo-local schedule create")
    assert not Store().db_path.exists()  # nothing was created
    assert cli.main(["schedule", "create", "--", "--help"]) == 0
    assert "INFO" not in capsys.readouterr().out


def test_group_and_program_help_list_their_commands(capsys: pytest.CaptureFixture[str]) -> None:
    for words in ([], ["run"], ["schedule"]):
        assert cli.main(words) == 0
        bare = capsys.readouterr().out
        assert help_of(words, capsys) == bare == help_of(words, capsys, flag="-h")


def test_help_json_is_one_document_naming_the_flags(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["trace", "get", "--help", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["command"] == "trace get"
    assert document["arguments"] == [{"name": "TRACE_ID", "repeatable": False}]
    assert cli.main(["agent", "list", "--json", "-h"]) == 0
    flags = json.loads(capsys.readouterr().out)["flags"]
    assert flags == [{"flag": "--time-range", "takes": "TIME_RANGE", "default": "30d", "repeatable": False},
                     {"flag": "--source", "takes": "SOURCE", "default": None, "repeatable": False}]


@pytest.mark.usefixtures("halo_store")
def test_hyphenated_and_underscored_flags_are_both_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    listed = []
    for flag in ("--time-range", "--time_range"):
        assert cli.main(["agent", "list", flag, "all", "--json"]) == 0
        listed.append(json.loads(capsys.readouterr().out))
    assert listed[0] == listed[1] and listed[0]
    agent = listed[0][0]["agentUuid"]
    for title, spelling in (("hyphens", "--agent-uuid"), ("underscores", "--agent_uuid")):
        assert cli.main(["schedule", "create", "--title", title, spelling, agent, "--frequency", "hourly",
                         "--minutes", "5", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["agentUuid"] == agent


def test_the_console_script_prints_help_on_stdout_only(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "halo_local.cli", "schedule", "create", "-h"], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "HALO_HOME": str(tmp_path / "home")})
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.startswith("Usage: halo-local schedule create [flags]\n")
    assert "INFO" not in done.stdout and "--days-of-week DAYS_OF_WEEK" in done.stdout


def test_the_readme_command_reference_is_the_cli_help() -> None:
    """As `make test` does: cog fails when a command's help changed and the README was not regenerated."""
    repo = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-m", "cogapp", "--check", "README.md"], cwd=repo, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, f"run `make readme` (cog -r README.md): {done.stdout}{done.stderr}"


def test_start_up_leaves_heavy_libraries_to_the_commands_that_use_them() -> None:
    """Every command starts a process (cron, MCP clients, scripts): help and listing commands must not pay for
    Arrow, polars, genai-prices' tables, the Anthropic SDK or MCP (together about 0.3 s of CPU per process)."""
    heavy = ["pyarrow", "polars", "numpy", "genai_prices", "anthropic", "mcp", "chdb", "clickhouse_connect"]
    probe = ("import sys\nfrom halo_local.cli.entry import main\n"
             "main(['trace', 'list', '--help'])\n"
             f"print(sorted(name for name in {heavy!r} if name in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.splitlines()[-1] == "[]", done.stdout
