"""The CLI contract scripts rely on: --json documents, exit codes, refusal of unknown flags."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from halo_local import cli, traces
from halo_local.ingest import load_paths
from halo_local.store import Store

HALO_FIXTURE = Path(__file__).parent / "fixtures" / "halo" / "realistic_traces.jsonl"
SAMPLE_TRACES = Path(__file__).resolve().parent.parent / "sample_traces"


def run_cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HALO_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "halo_local.cli", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_home_json_is_one_document(isolated_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["home", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["home"] == str(isolated_home)


def test_unknown_flag_is_refused_before_running(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["agent", "list", "--time-rnage", "7d"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "unknown flag --time-rnage" in captured.err
    assert "did you mean --time-range" in captured.err


def test_unknown_command_suggests_the_closest(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["agnet", "list"]) == 2
    assert "did you mean `halo-local agent`" in capsys.readouterr().err


def test_bad_value_is_a_usage_error_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["agent", "list", "--time-range", "2w", "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("Error: --time-range must be one of")


def test_ls_alias_and_empty_database(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["agent", "ls"]) == 0
    assert "No traces are stored yet" in capsys.readouterr().out
    assert cli.main(["agent", "ls", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_bare_boolean_flag_does_not_swallow_the_next_argument(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["traces", "load", "--skip-invalid", str(HALO_FIXTURE), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["spansNew"] == 58


def test_numeric_looking_values_stay_strings(capsys: pytest.CaptureFixture[str]) -> None:
    """fire would turn 0123 or 9,10 into numbers and tuples; ids must arrive as typed."""
    assert cli.main(["trace", "get", "0123"]) == 1
    assert "no trace with id '0123'" in capsys.readouterr().err


def test_load_and_inspect_through_real_processes(tmp_path: Path) -> None:
    home = tmp_path / "home"
    loaded = run_cli("traces", "load", str(HALO_FIXTURE), "--json", home=home)
    assert loaded.returncode == 0, loaded.stderr
    summary = json.loads(loaded.stdout)
    assert (summary["spansNew"], summary["traces"], summary["agents"]) == (58, 3, 1)

    again = run_cli("traces", "load", str(HALO_FIXTURE), "--json", home=home)
    assert json.loads(again.stdout)["filesUnchanged"] == 1

    agents = json.loads(run_cli("agent", "list", "--time-range", "all", "--json", home=home).stdout)
    assert len(agents) == 1
    agent = agents[0]
    assert {"agentUuid", "name", "serviceName", "traceCount", "spanCount", "errorCount",
            "firstSeenAt", "lastSeenAt"} <= set(agent)
    assert (agent["traceCount"], agent["spanCount"], agent["errorCount"]) == (3, 58, 3)

    empty = run_cli("agent", "list", home=home)
    assert empty.returncode == 0
    assert "Stored spans cover 2026-04-24" in empty.stdout

    failing = json.loads(run_cli("trace", "list", "--time-range", "all", "--errors-only", "--json", home=home).stdout)
    assert failing and all(row["errorCount"] > 0 for row in failing)
    tree = run_cli("trace", "get", failing[0]["traceId"], home=home)
    assert tree.returncode == 0
    assert "ERROR" in tree.stdout and "list_files" in tree.stdout

    errors = json.loads(run_cli("span", "list", "--errors-only", "--json", home=home).stdout)
    assert len(errors) == 3
    span = json.loads(run_cli("span", "get", errors[0]["spanId"], "--json", home=home).stdout)
    assert span["statusCode"] == "error" and isinstance(span["attributes"], dict)


def test_invalid_file_names_file_and_line_and_loads_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    bad = tmp_path / "bad.jsonl"
    lines = HALO_FIXTURE.read_text().splitlines()
    bad.write_text("\n".join(lines[:3] + ['{"trace_id": "ab", "span_id": ', *lines[3:5]]) + "\n")
    result = run_cli("traces", "load", str(bad), home=home)
    assert result.returncode == 1
    assert result.stdout == ""
    assert f"{bad}:4" in result.stderr
    assert "Traceback" not in result.stderr
    listed = run_cli("span", "list", "--json", home=home)
    assert json.loads(listed.stdout) == []


def _commands(component: object, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], object]]:
    found = []
    for name in dir(component):
        if name.startswith("_"):
            continue
        member = getattr(component, name)
        if callable(member) and hasattr(member, "__self__"):
            found.append(((*prefix, name), member))
        elif not callable(member):
            found.extend(_commands(member, (*prefix, name)))
    return found


def test_every_command_has_help_and_is_in_the_readme() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    commands = _commands(cli.HaloLocalCli())
    assert len(commands) >= 8
    for words, method in commands:
        assert (method.__doc__ or "").strip(), f"`{' '.join(words)}` has no help text"
        assert f"halo-local {' '.join(words)}" in readme, f"`halo-local {' '.join(words)}` is not documented"


def test_an_agent_name_two_agents_share_is_refused_naming_both(capsys: pytest.CaptureFixture[str]) -> None:
    load_paths(Store(), [SAMPLE_TRACES])
    namesakes = [item for item in traces.list_agents(Store(), time_range="all") if item["name"] == "HaloCodeHelper"]
    assert len({item["serviceName"] for item in namesakes}) == 2
    listed = [f"{item['agentUuid']} (HaloCodeHelper, {item['serviceName']})" for item in namesakes]
    for args in (["trace", "list", "--agent", "HaloCodeHelper", "--time-range", "all"],
                 ["span", "list", "--agent", "HaloCodeHelper"],
                 ["run", "create", "--agent-uuid", "HaloCodeHelper", "--no-llm"],
                 ["analyze", str(SAMPLE_TRACES), "--agent-uuid", "HaloCodeHelper", "--no-llm"]):
        assert cli.main(args) == 2, args
        captured = capsys.readouterr()
        assert captured.err.startswith("Error: agent name 'HaloCodeHelper' is shared by 2 agents: "), captured.err
        assert all(line in captured.err for line in listed), captured.err
        assert "Hint: pass the UUID of the one you mean instead of the name" in captured.err

    assert cli.main(["trace", "list", "--agent", "HaloCodeHelpr", "--time-range", "all"]) == 1
    hint = capsys.readouterr().err
    assert all(line in hint for line in listed), hint  # the hint names every namesake
    assert cli.main(["trace", "list", "--agent", "joke_agent", "--time-range", "all", "--json"]) == 0
    assert [row["agentName"] for row in json.loads(capsys.readouterr().out)] == ["joke_agent"]
    assert cli.main(["trace", "list", "--agent", namesakes[0]["agentUuid"], "--time-range", "all", "--json"]) == 0
    assert {row["agentName"] for row in json.loads(capsys.readouterr().out)} == {"HaloCodeHelper"}


def test_span_get_with_the_wrong_trace_id_names_it_and_the_right_one(capsys: pytest.CaptureFixture[str]) -> None:
    load_paths(Store(), [HALO_FIXTURE])
    [span] = traces.list_spans(Store(), limit=1)
    wrong = "0" * 32
    assert cli.main(["span", "get", span["spanId"], "--trace-id", wrong]) == 1
    error = capsys.readouterr().err
    assert f"Error: no span with id '{span['spanId']}' in trace '{wrong}'" in error
    assert f"Hint: that span id is stored under trace {span['traceId']}" in error
    assert cli.main(["span", "get", "f" * 16, "--trace-id", span["traceId"]]) == 1
    error = capsys.readouterr().err
    assert f"in trace '{span['traceId']}'" in error and f"span list --trace-id {span['traceId']}" in error
    assert cli.main(["span", "get", span["spanId"], "--trace-id", span["traceId"].upper(), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["spanId"] == span["spanId"]
