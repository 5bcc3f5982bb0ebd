"""The CLI contract scripts rely on: --json documents, exit codes, refusal of unknown flags."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import pytest

from halo_local import cli, traces
from halo_local.store import Store

HALO_FIXTURE = Path(__file__).parent / "fixtures" / "halo" / "realistic_traces.jsonl"
SAMPLE_TRACES = Path(__file__).resolve().parent.parent / "sample_traces"


def run_cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HALO_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "halo_local.cli", *args], capture_output=True, text=True, env=env, timeout=600
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
    assert cli.main(["agent", "list", "--time-range", "2w"]) == 2
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


def test_load_and_inspect_through_real_processes(isolated_home: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """The loads and one read are real processes; the other reads run `cli.main` in this process (a process
    costs ~0.35 CPU-s to start), their output captured at the file descriptors as a process's would be."""
    home = isolated_home

    def in_process(*args: str) -> str:
        capfd.readouterr()
        assert cli.main(list(args)) == 0, capfd.readouterr().err
        return capfd.readouterr().out

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

    assert "Stored spans cover 2026-04-24" in in_process("agent", "list")

    failing = json.loads(in_process("trace", "list", "--time-range", "all", "--errors-only", "--json"))
    assert failing and all(row["errorCount"] > 0 for row in failing)
    tree = in_process("trace", "get", failing[0]["traceId"])
    assert "ERROR" in tree and "list_files" in tree

    assert json.loads(in_process("span", "list", "--name", "ls", "--json")) == []  # not `list`
    assert len(json.loads(in_process("span", "list", "--name", "list", "--json"))) == 11
    errors = json.loads(in_process("span", "list", "--errors-only", "--json"))
    assert len(errors) == 3
    span = json.loads(in_process("span", "get", errors[0]["spanId"], "--json"))
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


def test_query_runs_read_only_sql_over_the_stored_spans(capsys: pytest.CaptureFixture[str], isolated_home: Path,
                                                        halo_capture_home: Path) -> None:
    assert cli.main(["query", "SELECT 1"]) == 1
    assert "does not exist" in capsys.readouterr().err
    shutil.copytree(halo_capture_home, isolated_home, dirs_exist_ok=True)  # HALO_FIXTURE, loaded once per process

    assert cli.main(["query", "SELECT span_id FROM spans ORDER BY span_id", "--limit", "2", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["columns"] == ["span_id"] and len(document["rows"]) == 2 and document["truncated"] is True
    assert cli.main(["query", "SELECT count(*) AS spans FROM spans"]) == 0
    assert capsys.readouterr().out.splitlines() == ["spans", "58", "(1 row)"]

    assert cli.main(["query", "DELETE FROM spans"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("Error: DELETE statements are not allowed")
    assert cli.main(["query", "SELECT 1", "--limit", "0"]) == 2
    assert cli.main(["query"]) == 2
    assert "query needs SQL" in capsys.readouterr().err
    assert cli.main(["query", "SELECT count(*) FROM spans", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == [[58]]


def test_every_command_has_help_and_is_in_the_readme() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    commands = _commands(cli.HaloLocalCli())
    assert len(commands) >= 8
    for words, method in commands:
        assert (method.__doc__ or "").strip(), f"`{' '.join(words)}` has no help text"
        assert f"halo-local {' '.join(words)}" in readme, f"`halo-local {' '.join(words)}` is not documented"


def test_an_agent_name_two_agents_share_is_refused_naming_both(capsys: pytest.CaptureFixture[str], isolated_home: Path,
                                                               loaded_home: Callable[..., Path]) -> None:
    shutil.copytree(loaded_home(SAMPLE_TRACES), isolated_home, dirs_exist_ok=True)
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


@pytest.mark.usefixtures("halo_store")
def test_span_get_with_the_wrong_trace_id_names_it_and_the_right_one(capsys: pytest.CaptureFixture[str]) -> None:
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


@pytest.mark.parametrize("args, message, hint", [
    (["span", "list", "--errors-only", "extra"], "unexpected argument 'extra' for `span list`",
     "--errors-only is a switch (--errors-only=false turns it off); usage: halo-local span list [--trace-id]"),
    (["schedule", "create", "--title", "T", "--agent-uuid", "a", "--frequency", "daily", "--minutes", "0",
      "--enabled", "9"], "unexpected argument '9' for `schedule create`", "--enabled is a switch"),
    (["schedule", "tick", "extra"], "unexpected argument 'extra' for `schedule tick`",
     "usage: halo-local schedule tick [--now]"),
    (["trace", "get", "0123", "extra"], "unexpected argument 'extra' for `trace get`",
     "usage: halo-local trace get TRACE_ID"),
    (["home", "extra"], "unexpected argument 'extra' for `home`", "usage: halo-local home"),
    (["trace", "get"], "trace get needs TRACE_ID", "usage: halo-local trace get TRACE_ID"),
    (["conversation", "ask", "conv_1", "--no-llm"], "conversation ask needs QUESTION",
     "usage: halo-local conversation ask CONVERSATION_ID QUESTION [--no-llm] [--model-id]"),
    (["traces", "ls"], "unknown command 'ls' for `halo-local traces`", "`halo-local traces` lists the commands"),
    (["trace", "--errors-only"], "unknown flag '--errors-only' for `halo-local trace`", "flags go after the command"),
])
def test_stray_and_missing_words_are_one_line_usage_errors(capsys: pytest.CaptureFixture[str], args: list[str],
                                                           message: str, hint: str) -> None:
    """Only TRACE_ID-like parameters take bare words; a stray word never becomes some option's value."""
    assert cli.main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    error, hint_line = captured.err.splitlines()
    assert error == f"Error: {message}"
    assert hint_line.startswith("Hint: ") and hint in hint_line
    assert cli.main(["schedule", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_positional_parameters_still_take_bare_words_or_flags(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["trace", "get", "--trace-id", "0123"]) == 1
    assert "no trace with id '0123'" in capsys.readouterr().err
    assert cli.main(["conversation", "ask", "conv_nosuch", "ls", "--no-llm"]) == 1
    assert "conv_nosuch" in capsys.readouterr().err


def test_aliases_apply_to_command_words_only(capsys: pytest.CaptureFixture[str], isolated_home: Path,
                                            loaded_home: Callable[..., Path]) -> None:
    shutil.copytree(loaded_home(SAMPLE_TRACES), isolated_home, dirs_exist_ok=True)
    agent_uuid = traces.list_agents(Store(), time_range="all")[0]["agentUuid"]
    assert cli.main(["schedule", "create", "--title", "conv", "--prompt", "ls", "--agent-uuid", agent_uuid,
                     "--frequency", "hourly", "--minutes", "0", "--json"]) == 0
    created = json.loads(capsys.readouterr().out)
    assert (created["title"], created["prompt"]) == ("conv", "ls")
    assert cli.main(["schedule", "ls", "--json"]) == 0
    assert [item["title"] for item in json.loads(capsys.readouterr().out)] == ["conv"]


def _raise(error: BaseException) -> Callable[..., None]:
    def fail(*_: object, **__: object) -> None:
        raise error
    return fail


@pytest.mark.parametrize("args, broken, code, message", [
    (["agent", "list", "--time-rnage", "7d"], None, 2, "unknown flag --time-rnage for `halo-local agent list`"),
    (["span", "list", "extra"], None, 2, "unexpected argument 'extra' for `span list`"),
    (["agent", "list", "--time-range", "2w"], None, 2, "--time-range must be one of"),
    (["trace", "get", "0123"], None, 1, "no trace with id '0123'"),
    (["agent", "list"], RuntimeError("boom"), 1, "unexpected RuntimeError: boom"),
    (["agent", "list"], KeyboardInterrupt(), 130, "interrupted"),
    (["agent", "list"], RuntimeError("Query interrupted"), 130, "interrupted"),
])
def test_json_failures_print_one_error_document(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                                args: list[str], broken: BaseException | None, code: int,
                                                message: str) -> None:
    if broken is not None:
        monkeypatch.setattr(cli.traces, "list_agents", _raise(broken))
    assert cli.main([*args, "--json"]) == code
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert set(document) == {"error"} and set(document["error"]) == {"message", "hint", "exitCode"}
    assert message in document["error"]["message"] and document["error"]["exitCode"] == code
    first_line = captured.err.splitlines()[0]
    assert first_line == ("Interrupted." if code == 130 else f"Error: {document['error']['message']}")


def test_bare_program_and_group_print_their_commands(tmp_path: Path) -> None:
    bare = run_cli(home=tmp_path)
    assert bare.returncode == 0 and bare.stderr == ""
    lines = bare.stdout.splitlines()
    assert lines[0] == "Usage: halo-local COMMAND [ARGS] [--json]"
    assert any(line.split() == ["schedule", "create,", "list,", "get,", "runs,", "update,", "archive,",
                                "unarchive,", "tick,", "cron"] for line in lines)
    assert any(line.split()[:2] == ["analyze", "PATH..."] for line in lines)
    group = run_cli("trace", home=tmp_path)
    assert group.returncode == 0
    assert [line.split()[:2] for line in group.stdout.splitlines() if line.startswith("  ")] == [
        ["list", "Traces"], ["get", "TRACE_ID"]]
    commands = json.loads(run_cli("--json", home=tmp_path).stdout)["commands"]
    for words, _ in _commands(cli.HaloLocalCli()):
        assert any(command.split()[:len(words)] == list(words) for command in commands), words
    assert "conversation ask CONVERSATION_ID QUESTION" in commands


def test_version_comes_from_the_package_metadata(tmp_path: Path) -> None:
    done = run_cli("--version", home=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"halo-local {version('halo-local')}\n", "")


@pytest.mark.parametrize("relative_home", ["file", "file/home"])
def test_unusable_halo_home_is_a_clear_error(tmp_path: Path, relative_home: str) -> None:
    (tmp_path / "file").write_text("not a folder")
    done = run_cli("agent", "list", home=tmp_path / relative_home)
    assert done.returncode == 1
    error, hint = done.stderr.splitlines()
    assert error.startswith(f"Error: cannot use HALO_HOME {tmp_path / relative_home}: ")
    assert hint.startswith("Hint: point HALO_HOME at a folder") and "bug" not in done.stderr


def test_busy_database_says_it_is_waiting_once(tmp_path: Path) -> None:
    """The notice comes once the wait passes WAIT_NOTICE_SECONDS, and once only; the lock is let go after it
    shows (with a 3 s limit the notice had to land between 2 and 3 s: a retry sleeping up to 1 s could jump
    that window, more so on a loaded machine). Giving up is checked under a limit shorter than the notice's."""
    home = tmp_path / "home"
    assert run_cli("agent", "list", home=home).returncode == 0
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
                               "print('held', flush=True); sys.stdin.read()", str(home / "halo.duckdb")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def waiting_cli(limit: str) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-m", "halo_local.cli", "agent", "list"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "HALO_HOME": str(home), "HALO_LOCK_TIMEOUT": limit})
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        given_up = waiting_cli("1")
        _, given_up_stderr = given_up.communicate(timeout=600)
        waiter = waiting_cli("600")
        assert waiter.stderr is not None
        notice = waiter.stderr.readline()  # blocks until the waiting command says so
    finally:
        holder.kill()
        holder.wait()
    _, rest = waiter.communicate(timeout=600)
    assert given_up.returncode == 1 and "stayed busy for 1s" in given_up_stderr
    assert "Waiting for the database" not in given_up_stderr  # a limit under WAIT_NOTICE_SECONDS: no notice
    assert notice == "Waiting for the database: another halo-local process is using it (HALO_LOCK_TIMEOUT=600s) ...\n"
    assert waiter.returncode == 0 and "Waiting for the database" not in rest, rest


def test_common_commands_do_not_import_the_anthropic_sdk(tmp_path: Path) -> None:
    """The SDK takes most of a second to import; only the LLM pass may pay for it."""
    code = "import sys; from halo_local import cli; cli.main(['agent', 'list']); print('anthropic' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "HALO_HOME": str(tmp_path)})
    assert done.stdout.splitlines()[-1] == "False", done.stderr


def test_console_script_turns_ctrl_c_during_imports_into_exit_130() -> None:
    pyproject = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
    module, function = pyproject["project"]["scripts"]["halo-local"].split(":")
    interrupt_on_cli_import = (
        "import sys\n"
        "class Interrupt:\n"
        "    def find_spec(self, name, *_):\n"
        "        if name == 'halo_local.cli':\n"
        "            raise KeyboardInterrupt\n"
        "sys.meta_path.insert(0, Interrupt())\n"
        f"from {module} import {function}\n"
        f"sys.exit({function}())\n"
    )
    done = subprocess.run([sys.executable, "-c", interrupt_on_cli_import], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (130, "", "Interrupted.\n")


@pytest.mark.usefixtures("halo_store")
def test_a_reader_that_stops_early_ends_the_command_quietly(isolated_home: Path) -> None:
    """`halo-local ... --json | head -c 20`: exit 141 as for SIGPIPE, and no traceback on stderr."""
    sql = "SELECT range AS n, repeat('x', 200) AS padding FROM range(20000)"  # ~5 MB, far over a pipe's buffer
    process = subprocess.Popen([sys.executable, "-m", "halo_local", "query", sql, "--limit", "20000", "--json"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env={**os.environ, "HALO_HOME": str(isolated_home)})
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.read(20).startswith(b'{"columns"')
    process.stdout.close()
    assert process.wait(timeout=60) == cli.EXIT_PIPE_CLOSED == 141
    assert process.stderr.read() == b""


def test_a_follow_up_without_an_answer_says_why(capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from halo_local import usecases

    failed = SimpleNamespace(run_id="run_2", status="failed",
                             status_reason="LLM pass failed (the LLM endpoint rejected the API key; check ANTHROPIC_API_KEY)")
    unanswered = SimpleNamespace(run=failed, answer=None, to_json=lambda: {"runId": "run_2", "answer": None})
    monkeypatch.setattr(usecases, "ask", lambda *args, **kwargs: unanswered)
    assert cli.main(["conversation", "ask", "conv_1", "why?"]) == 3
    assert capsys.readouterr().out.strip() == (
        "No answer: the follow-up run run_2 ended failed: LLM pass failed (the LLM endpoint rejected the API key;"
        " check ANTHROPIC_API_KEY)")


def test_the_store_never_draws_duckdbs_progress_bar(store: Store) -> None:
    """DuckDB draws a progress bar on stdout once a query passes 2 s: on a loaded machine a load or an
    analysis did, and `--json` printed the bar before its document (the suite failed on it under load)."""
    with store.connect() as connection:
        assert connection.execute("SELECT current_setting('enable_progress_bar')").fetchall() == [(False,)]
