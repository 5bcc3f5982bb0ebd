"""`halo-local analyze` (load, run, report in one go) and the progress that `run create --wait` and
analyze show only on a terminal; the real-process path is test_analyze_loads_and_reports_in_one_go's."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from cli_runs_support import run_cli, window_args
from runs_support import HALO_FIXTURE

from halo_local import cli, runs


@pytest.mark.parametrize("on_terminal", [False, True])
def test_run_create_wait_and_analyze_show_progress_only_on_a_terminal(
        on_terminal: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        module_capture_home: tuple[Path, str]) -> None:
    home, agent = module_capture_home  # analyze finds the file loaded already: no load to pay for again
    monkeypatch.setattr(sys.stderr, "isatty", lambda: on_terminal)
    monkeypatch.setenv("HALO_HOME", str(home))
    for args in (["run", "create", *window_args(agent), "--no-llm", "--wait"],
                 ["analyze", str(HALO_FIXTURE), "--no-llm"]):
        assert cli.main(args) == 0, args
        progress = capsys.readouterr().err
        assert ("started" in progress) is on_terminal, (args, progress)
        if not on_terminal:
            assert progress == "", (args, progress)


def test_analyze_loads_and_reports_in_one_go(tmp_path: Path) -> None:
    done = run_cli("analyze", str(HALO_FIXTURE), home=tmp_path / "home")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("# Trace analysis: ")
    assert "LLM pass: skipped (ANTHROPIC_API_KEY is not set)" in done.stdout


def _main(args: list[str], home: Path, monkeypatch: pytest.MonkeyPatch,
          capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """`halo-local ARGS` in this process on `home`: exit code, stdout, stderr (the real-process path of
    analyze is test_analyze_loads_and_reports_in_one_go's)."""
    monkeypatch.setenv("HALO_HOME", str(home))
    code = cli.main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_analyze_skip_invalid_as_its_hint_suggests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_text(HALO_FIXTURE.read_text() + '{"trace_id": "ab", "span_id": \n')
    code, _, err = _main(["analyze", str(damaged)], tmp_path / "home", monkeypatch, capsys)
    assert code == 1 and "--skip-invalid" in err
    code, out, err = _main(["analyze", str(damaged), "--skip-invalid", "--json"], tmp_path / "home",
                           monkeypatch, capsys)
    assert code == 0, err
    document = json.loads(out)
    assert document["traceDataset"]["spans"] == 58
    bad_line = len(HALO_FIXTURE.read_text().splitlines()) + 1
    [skipped] = document["skipped"]
    assert (skipped["path"], skipped["records"], skipped["firstLine"]) == (str(damaged), 1, bad_line)
    assert skipped["reason"]
    notice = f"Warning: left out 1 record of {damaged}: first at line {bad_line}: {skipped['reason']}"
    assert notice in err.splitlines()
    assert len(document["findings"]) == document["findingCount"] > 0

    code, out, err = _main(["analyze", str(damaged), "--skip-invalid"], tmp_path / "fresh", monkeypatch, capsys)
    assert code == 0, err
    assert notice in err.splitlines() and "left out 1 record" not in out


def test_analyze_a_file_whose_spans_were_loaded_from_other_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """The same traces in another format, after the sample traces (which hold them) were loaded (as
    `analyze sample_traces/` loads them: its run there, ~2 CPU-s, changed nothing this test reads)."""
    same_traces = HALO_FIXTURE.with_name("realistic_traces.otlp.json")

    def analyze(path: Path, home: Path) -> Any:
        code, out, err = _main(["analyze", str(path), "--no-llm", "--json"], home, monkeypatch, capsys)
        assert code == 0, err
        return json.loads(out)

    alone = analyze(same_traces, tmp_path / "alone")
    home = tmp_path / "home"
    code, _, err = _main(["traces", "load", str(Path(__file__).parent.parent / "sample_traces")], home,
                         monkeypatch, capsys)
    assert code == 0, err
    after = analyze(same_traces, home)
    assert (after["status"], after["agentUuid"], after["window"], after["otherAgents"]) == (
        "completed", alone["agentUuid"], alone["window"], [])


def test_analyze_files_without_spans_exits_no_traces(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text('{"resourceSpans": []}')
    assert cli.main(["analyze", str(empty), "--no-llm"]) == runs.POLL_EXIT_CODES["no_traces"]
    assert capsys.readouterr().err.startswith("Error: the files hold no spans to analyse\n")
