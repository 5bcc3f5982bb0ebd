"""The report: golden files pin the heuristics-only markdown; guidance exists for every category.

Regenerate the golden files after an intended change with

    HALO_UPDATE_GOLDENS=1 .venv/bin/python -m pytest tests/test_report.py

and review the diff of tests/golden/ like code.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import duckdb
import pytest
from runs_support import AGENT_UUID, BASE, HALO_WINDOW, WINDOW, agent_traces, insert_spans, span

from halo_local import heuristics, report, runs, traces
from halo_local.sandbox import SpanSandbox
from halo_local.store import Store

GOLDEN = Path(__file__).parent / "golden"
UPDATE_ENV = "HALO_UPDATE_GOLDENS"
_RUN_ID = re.compile(r"run_[0-9a-f]{12}")


def _normalized(text: str) -> str:
    """Run ids are random; everything else in a heuristics-only report must be stable."""
    return _RUN_ID.sub("run_000000000000", text)


def _without_changes(text: str) -> str:
    """The report without its "What changed since the last run" section."""
    return re.sub(r"## What changed since the last run\n.*?(?=\n## )", "", text, flags=re.DOTALL)


def _check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get(UPDATE_ENV):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; create it with {UPDATE_ENV}=1"
    assert text == path.read_text(encoding="utf-8"), f"report differs from {path}; if intended, regenerate with {UPDATE_ENV}=1"


def _finding(category: str, subject: str | None, severity: str, **values: Any) -> dict[str, Any]:
    data = {
        "category": category, "severity": severity, "title": f"{category.replace('_', ' ')} on {subject or 'the agent'}",
        "subject": subject, "agentUuid": AGENT_UUID, "metric": f"{category}_count", "value": 3.0, "baseline": 1.0,
        "affectedTraces": 3, "affectedSpans": 3, "traceShare": 0.6, "spanShare": 0.15, "impactSeconds": 6.5,
        "impactUsd": 0.0123, "failedTraces": 3, "firstSeenAt": "2026-04-24T18:00:01Z",
        "lastSeenAt": "2026-04-24T18:04:01Z", "exampleTraceIds": [f"{4:032x}", f"{2:032x}"],
        "exampleSpanIds": [f"{4:04x}{2:012x}", f"{2:04x}{2:012x}"], "detail": {"signature": "No such file <path>"},
    }
    data.update(values)
    return heuristics.Finding.from_json(data).to_json()


def _synthetic_findings() -> list[dict[str, Any]]:
    """One finding per category, so the golden file shows the guidance of each."""
    findings = [_finding("error", "list_files", "high")]
    for category in heuristics.CATEGORIES[1:]:
        findings.append(_finding(category, "chat gpt-4o" if category != "data_quality" else None,
                                 "medium" if category in ("latency", "cost", "loop") else "low",
                                 failedTraces=0, impactUsd=None))
    return findings


def test_golden_heuristics_only_report_on_fixed_findings(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pins the template, the measured sections and the per-category guidance."""
    insert_spans(store, agent_traces(5))
    insert_spans(store, [span(7, 0, start=BASE, span_type="llm", name="chat mystery",
                              model="mystery-1", input_tokens=10, output_tokens=2, cost_source="unpriced",
                              status="error", error_message="bad | pipe\nand newline")])
    findings = [heuristics.Finding.from_json(item) for item in _synthetic_findings()]
    checks = [heuristics.CheckResult(category, "findings", 1, 20, "spans", "1 finding over 20 spans")
              for category in heuristics.CATEGORIES[:-2]]
    checks += [heuristics.CheckResult("excessive_steps", "healthy", 0, 5, "traces",
                                      "5 traces checked: no trace took far more steps than usual"),
               heuristics.CheckResult("data_quality", "not_applicable", 0, 0, "spans",
                                      "nothing to check: the window has no spans")]
    monkeypatch.setattr(heuristics, "analyze",
                        lambda *_, **__: heuristics.Analysis(findings=findings, checks=checks, stats={}))

    run = runs.create_run(store, agent_uuid=AGENT_UUID, window_start_at=WINDOW[0], window_end_at=WINDOW[1],
                          no_llm=True, wait=True).to_json()

    text = Path(run["reportPath"]).read_text(encoding="utf-8")
    _check_golden("report_fixed_findings.md", _normalized(text))
    assert "bad \\| pipe and newline" in text
    assert "1 call unpriced (mystery-1), not counted" in text
    assert "Further findings, lower in impact" in text


@pytest.mark.usefixtures("halo_store")
def test_golden_heuristics_only_report_on_the_halo_capture(store: Store) -> None:
    """The whole pipeline on a real capture: ingest, snapshot, detectors, sections, template."""
    agent = traces.list_agents(store, time_range="all")[0]["agentUuid"]
    first = runs.create_run(store, agent_uuid=agent, window_start_at=HALO_WINDOW[0], window_end_at=HALO_WINDOW[1],
                            no_llm=True, wait=True).to_json()
    second = runs.create_run(store, agent_uuid=agent, window_start_at=HALO_WINDOW[0],
                             window_end_at=HALO_WINDOW[1], no_llm=True, wait=True).to_json()

    text = _normalized(Path(first["reportPath"]).read_text(encoding="utf-8"))
    again = _normalized(Path(second["reportPath"]).read_text(encoding="utf-8"))
    # The second run differs only in what changed since the first: nothing new, both still open.
    assert "No earlier completed run of this agent" in text
    assert "**0 new**, 2 still open, 0 gone." in again and again.count("- STILL OPEN [MEDIUM]") == 2
    assert _without_changes(text) == _without_changes(again)
    _check_golden("report_halo_realistic.md", text)
    assert "list_files" in text


def _reproduce_queries(report_text: str) -> list[str]:
    """The SQL of every `halo-local query "..."` under "How to reproduce", unquoted by a real shell."""
    section = report_text.split("## How to reproduce", 1)[1].split("\n---\n", 1)[0]
    commands = re.findall(r'^halo-local query ("(?:[^"\\]|\\.)*")$', section, flags=re.MULTILINE | re.DOTALL)
    return [subprocess.run(["bash", "-c", f"printf %s {quoted}"], capture_output=True, text=True, check=True).stdout
            for quoted in commands]


@pytest.mark.usefixtures("halo_store")
def test_every_reproduce_query_of_a_real_report_runs_through_halo_local_query(store: Store) -> None:
    agent = traces.list_agents(store, time_range="all")[0]["agentUuid"]
    run = runs.create_run(store, agent_uuid=agent, window_start_at=HALO_WINDOW[0], window_end_at=HALO_WINDOW[1],
                          no_llm=True, wait=True).to_json()
    text = Path(run["reportPath"]).read_text(encoding="utf-8")
    assert "duckdb -readonly" not in text

    queries = _reproduce_queries(text)
    issues_with_spans = [item for item in runs.get_run(store, run["runId"]).to_json()["findings"] if item["exampleSpanIds"]]
    assert len(queries) == 1 + min(3, len(issues_with_spans)) >= 2
    overview = traces.query_spans(store, queries[0])
    assert overview.rows[0][:2] == (run["traceDataset"]["traces"], run["traceDataset"]["spans"]) == (3, 58)
    # The others in one sandbox built as `halo-local query` builds its own (each build starts a process).
    with SpanSandbox.from_database(store.db_path) as sandbox:
        for query in queries[1:]:
            found = sandbox.query(query, max_rows=200, max_chars=traces.QUERY_MAX_CHARS)
            quoted_ids = re.findall(r"'([0-9a-f]{16,32})'", query)
            assert sorted(row[1] for row in found.rows) == sorted(quoted_ids) and not found.truncated


@pytest.mark.parametrize("category", heuristics.CATEGORIES)
def test_every_category_has_its_own_cause_and_fix(category: str) -> None:
    module = report.environment().get_template("report/guidance.md.j2").module
    finding = _finding(category, "tool_x", "high")
    cause, fix = str(module.likely_cause(finding)), str(module.fix(finding))
    assert cause.strip() and fix.strip()
    assert cause.strip() != f"{finding['title']}."
    assert "address the pattern they share" not in fix
    assert len(fix) > 80


def test_followup_matching_prefers_subject_then_category() -> None:
    findings = [heuristics.Finding.from_json(item) for item in (
        _finding("latency", "chat gpt-4o", "medium"), _finding("error", "list_files", "high"),
        _finding("cost", "chat gpt-4o", "low"))]
    matched = report.match_findings("why is list_files failing so often?", findings)
    assert [item.subject for item in matched] == ["list_files"]
    assert [item.category for item in report.match_findings("what costs the most money?", findings)] == ["cost"]
    assert report.match_findings("hello there", findings) == []
    answer = report.render_followup_answer(question="hello there", findings=findings,
                                           unavailable_reason="--no-llm was given")
    assert "No finding matches" in answer and "latency on chat gpt-4o" in answer


def _guidance(finding: dict[str, Any]) -> tuple[str, str]:
    module = report.environment().get_template("report/guidance.md.j2").module
    return str(module.likely_cause(finding)), str(module.fix(finding))


def test_each_data_quality_kind_has_its_own_cause_and_fix() -> None:
    kinds = [("unpriced_usage", "(unknown model)"), ("unpriced_usage", "mystery-1"), ("orphan_spans", None),
             ("unfinished_spans", None), ("clock_skew_spans", None), ("negative_duration_spans", None)]
    texts = [_guidance(_finding("data_quality", subject, "low", metric=metric)) for metric, subject in kinds]
    assert len({cause for cause, _ in texts}) == len(kinds) and len({fix for _, fix in texts}) == len(kinds)
    missing_model_fix, unpriced_fix = texts[0][1], texts[1][1]
    assert "gen_ai.request.model" in missing_model_fix and "llm.model_name" in missing_model_fix
    assert "price table" in unpriced_fix and "cost on the span" in unpriced_fix and "mystery-1" in unpriced_fix
    assert "clocks" not in missing_model_fix and "flush" not in unpriced_fix


def test_a_single_failure_is_not_called_recurring_or_deterministic() -> None:
    once, _ = _guidance(_finding("error", "list_files", "low", affectedSpans=1))
    twice, _ = _guidance(_finding("error", "list_files", "low", affectedSpans=2))
    assert "recurs" not in once and "deterministic" not in once and "1 spans" not in once
    assert "recurs in `list_files` (2 spans)" in twice and "deterministic" in twice


def test_evidence_gives_the_share_of_all_spans_not_of_the_subject() -> None:
    module = report.environment().get_template("report/evidence.md.j2").module
    finding = _finding("error", "list_files", "low", affectedSpans=3, affectedTraces=1, traceShare=0.5,
                       spanShare=0.273)
    assert str(module.evidence(finding, 60)).startswith("3 spans in 1 trace (50.0% of all traces, 5.0% of all 60 spans)")
    assert str(module.evidence(finding)).startswith("3 spans in 1 trace (50.0% of all traces)")
    single = _finding("error", "x", "low", affectedSpans=1, affectedTraces=1, failedTraces=1)
    assert str(module.evidence(single, 1)).startswith("1 span in 1 trace (")
    assert str(module.impact(single)).startswith("1 failed trace,")


def test_markdown_from_the_data_cannot_break_the_report(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    nasty = "x | y\n**boom** <script>alert(1)</script>"
    insert_spans(store, [dict(row, agent_name="md|agent") for row in agent_traces(2)])
    insert_spans(store, [span(9, 0, start=BASE, span_type="tool", name="run|`sh`", tool_name="run|`sh`",
                              agent_name="md|agent", status="error", error_message=nasty)])
    title = "Tool run|`sh` failed: " + nasty + " and then a rather long tail of words " * 6
    findings = [heuristics.Finding.from_json(_finding("error", "run|`sh`", "high", title=title,
                                                      detail={"signature": nasty}))]
    findings += [heuristics.Finding.from_json(_finding("loop", f"tool{number}|`x`", "low", title=nasty,
                                                       failedTraces=0, impactUsd=None, impactSeconds=0.0))
                 for number in range(10)]
    monkeypatch.setattr(heuristics, "analyze", lambda *_, **__: heuristics.Analysis(findings=findings, checks=[],
                                                                                     stats={}))
    run = runs.create_run(store, agent_uuid=AGENT_UUID, window_start_at=WINDOW[0], window_end_at=WINDOW[1],
                          no_llm=True, wait=True).to_json()
    text = Path(run["reportPath"]).read_text(encoding="utf-8")

    assert text.startswith("# Trace analysis: md\\|agent\n")
    assert "| Agent | md\\|agent (`0b6a3c36-5b1e-5d2f-9a43-3f5c6f0a1d11`) |" in text
    assert "**subject**: `` run|`sh` ``" in text
    outside_code = re.sub(r"(`+)[^`].*?\1(?!`)", "", text.split("## How to reproduce")[0])
    assert "<script>" not in outside_code and "**boom**" not in outside_code
    assert "recurs in `` run|`sh` `` (3 spans)" in text
    heading = next(line for line in text.splitlines() if line.startswith("### 1. "))
    assert "\\*\\*boom\\*\\* \\<script\\>" in heading and heading.endswith("…")
    assert heading.removesuffix("…").endswith(("and", "then", "a", "rather", "long", "tail", "of", "words"))
    for line in text.splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            assert len(re.findall(r"(?<!\\)\|", line.replace("`` ", "").replace(" ``", ""))) >= 3, line
    error_row = next(line for line in text.splitlines() if line.startswith("| `` run\\|`sh` ``"))
    assert error_row.count(" | ") == 6, error_row
    further = next(line for line in text.splitlines() if line.startswith("| 11 |"))
    assert further.count(" | ") == 4, further


def test_beeai_instances_group_under_one_name(store: Store) -> None:
    """BeeAI's per-instance counters (agent.react.update-11/12/13) do not split Latency and Tool use rows."""
    from halo_local.ingest import load_paths

    load_paths(store, [Path(__file__).parent / "fixtures" / "langfuse-frameworks" / "beeai-2025-08-01.otlp.json"])
    agent = traces.list_agents(store, time_range="all")[0]["agentUuid"]
    run = runs.create_run(store, agent_uuid=agent, window_start_at="2025-01-01T00:00:00Z",
                          window_end_at="2027-01-01T00:00:00Z", no_llm=True, wait=True).to_json()
    text = Path(run["reportPath"]).read_text(encoding="utf-8")
    assert "| `agent.react.update` | agent | 10 |" in text
    assert "| `tool.search.wikipedia.start` | 1 | 1 | 0 |" in text
    assert not re.search(r"`[a-z_.]+-[0-9]+`", text.split("## Latency")[1].split("## Checked")[0])


def test_link_hosts_are_read_only_for_a_run_whose_llm_writes_text() -> None:
    # Reading them scans every span's attributes (0.75 CPU-s at 1M spans); only LLM text is checked against them.
    overview = {"totals": {"traces": 1, "error_traces": 0, "unpriced_models": []}, "models": [], "tools": []}
    with duckdb.connect() as connection:
        connection.execute(
            "CREATE TABLE window_spans AS SELECT 'search' AS tool_name, 'search' AS name, 'tool' AS span_type,"
            " NULL AS error_type, NULL AS error_message, NULL AS status_message, 'error' AS status_code,"
            " 't1' AS trace_id, 's1' AS span_id, 1 AS start_ns, 5.0 AS duration_ms, NULL AS scope_name,"
            " '{\"url.full\": \"https://api.example/v1\"}'::JSON AS attributes")
        with_llm = report.collect_sections(connection, overview, for_llm_text=True)
        without = report.collect_sections(connection, overview, for_llm_text=False)
    assert with_llm.link_hosts == ("api.example",)
    assert without.link_hosts == ()
    assert (without.errors, without.latency) == (with_llm.errors, with_llm.latency) and len(without.errors) == 1
