"""Detectors on small span sets built to trigger each one, and near misses that must not."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from heuristics_support import AGENT, EPOCH, OTHER_AGENT, SPAN_COLUMNS, Spans, healthy_trace, of
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from halo_local.config import Thresholds, load_thresholds
from halo_local.errors import HaloLocalError
from halo_local.heuristics import (
    CATEGORIES,
    Finding,
    analyze,
    detector_files,
    find_findings,
    healthy_checks,
    rank_findings,
)

# --- the contract ---------------------------------------------------------------------------------


def test_one_detector_file_per_category_with_a_header() -> None:
    files = detector_files()
    assert tuple(files) == CATEGORIES
    for category, path in files.items():
        text = path.read_text(encoding="utf-8")
        assert text.startswith(f"-- {category}:"), path
        assert "Why it matters" in text and ("Threshold" in text or "Severity" in text), path


def test_healthy_traces_give_no_finding_and_every_check_says_so() -> None:
    spans = Spans()
    for number in range(6):
        healthy_trace(spans, f"t{number}", start=number * 10_000)
    with spans.connect() as connection:
        analysis = analyze(connection, agent_uuid=AGENT, table="spans")
        assert analysis.findings == []
        statuses = {check.category: check.status for check in analysis.checks}
        assert [check.category for check in analysis.checks] == list(CATEGORIES)
        assert set(statuses.values()) == {"healthy"}
        assert healthy_checks(connection, agent_uuid=AGENT, table="spans") == analysis.checks
        assert analysis.stats["latency"][0]["subject"] == "gpt-4o"
        assert analysis.stats["costByModel"][0]["costUsd"] == pytest.approx(0.012)
        # Temp tables and macros are gone: a second analysis on the same connection works.
        assert connection.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'halo_h_%'").fetchone() == (0,)
        assert analyze(connection, agent_uuid=AGENT, table="spans").checks == analysis.checks


def test_odd_windows_do_not_raise() -> None:
    empty = Spans()
    with empty.connect() as connection:
        analysis = analyze(connection, agent_uuid=AGENT, table="spans")
    assert analysis.findings == []
    assert {check.status for check in analysis.checks} == {"not_applicable"}

    single = Spans()
    single.add("t1", "lonely", duration=None, status="error")
    assert {item.category for item in single.findings()} <= {"error", "data_quality"}

    nulls = Spans()
    nulls.add("t1", "x", type="llm", duration=None, declared_tools=[], finish_reason=None)
    nulls.add("t1", "y", type="tool", parent="missing", duration=-5.0, tool_result="", tool_arguments="")
    nulls.add("t2", "z", type="llm", model="m", input_tokens=0, output_tokens=0, cost_usd=0.0, cost_source="computed")
    nulls.findings()

    other_agent_only = Spans()
    healthy_trace(other_agent_only, "t1")
    for row in other_agent_only.rows:
        row["agent_uuid"] = OTHER_AGENT
    assert other_agent_only.findings() == []


def test_a_check_with_nothing_to_read_names_what_the_calls_lack() -> None:
    """Model and tool calls that carry no finish reason, output, usage, arguments, result or end time:
    the checks that need those say so, never that the window has no model or tool calls."""
    spans = Spans()
    root = spans.agent("t1")
    spans.llm("t1", parent=root, input_tokens=None, output_tokens=None, cost=None, duration=None)
    spans.tool("t1", "search", parent=root, duration=None)
    with spans.connect() as connection:
        checks = {check.category: check for check in analyze(connection, agent_uuid=AGENT, table="spans").checks}
    expected = {
        "refusal": "nothing to check: no model call reports a finish reason or output text",
        "truncation": "nothing to check: no model call reports a finish reason",
        "cost": "nothing to check: no model call reports token usage",
        "tool_error": "nothing to check: no tool call records its result",
        "loop": "nothing to check: no tool call records its arguments and no model call its output text",
    }
    assert {category: checks[category].note for category in expected} == expected
    assert all(checks[category].status == "not_applicable" for category in expected)
    assert checks["empty_output"].status == "healthy" and checks["unknown_tool"].status == "healthy"


def test_unknown_table_is_a_user_error() -> None:
    with Spans().connect() as connection, pytest.raises(HaloLocalError, match="no table or view"):
        find_findings(connection, agent_uuid=AGENT, table="window_spans")


_odd_text = st.one_of(st.none(), st.sampled_from(["", " ", "Error: x 1", "{\"error\": 1}", "{bad json", "null",
                                                   "Traceback (most recent call last)", "exit code 3", "é\u0000"]))


# An example costs one full detector pass (~0.5 s, the work under test). 12 generated windows plus the
# targeted corners below (a lone span with nothing set, a window where every span failed with odd text and
# a cut-off finish, a parented chain of zero-length tool calls, negative and huge durations and costs) stand
# for the 25 generated windows this test used to draw; each window mixes up to 12 spans of every kind.
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example([("t1", "other", "unset", None, None, None, None, None, None, False)])
@example([("t1", kind, "error", 0.0, 0, 0.0, "{bad json", "Traceback (most recent call last)", "length", index > 0)
          for index, kind in enumerate(["agent", "llm", "tool", "llm", "chain"])])
@example([("t2", "tool", "ok", 0.0, None, None, "", "", "", True) for _ in range(6)])
@example([("t1", "llm", "ok", -10.0, 10**7, 100.0, "é\u0000", None, "content_filter", False),
          ("t2", "llm", "unset", 1e6, 0, 0.0, None, "exit code 3", "stop", True)])
@given(st.lists(st.tuples(
    st.sampled_from(["t1", "t2"]), st.sampled_from(["llm", "tool", "agent", "chain", "other"]),
    st.sampled_from(["unset", "ok", "error"]), st.one_of(st.none(), st.floats(-10, 1e6, allow_nan=False)),
    st.one_of(st.none(), st.integers(0, 10**7)), st.one_of(st.none(), st.floats(0, 100, allow_nan=False)),
    _odd_text, _odd_text, st.one_of(st.none(), st.sampled_from(["length", "stop", "content_filter", ""])),
    st.booleans()), min_size=1, max_size=12))
def test_no_detector_raises_on_odd_data(rows: list[tuple[Any, ...]]) -> None:
    spans = Spans()
    ids: list[str] = []
    for index, (trace, kind, status, duration, tokens, cost, text, message, finish, parented) in enumerate(rows):
        ids.append(spans.add(
            trace, f"s{index % 3}", type=kind, status=status, duration=duration, start=index * 10.0,
            parent=(ids[-1] if parented and ids else None), input_tokens=tokens, output_tokens=tokens,
            cost_usd=cost, cost_source="unpriced" if cost is None and tokens else "computed",
            model="m" if kind == "llm" else None, tool_name="t" if kind == "tool" else None,
            tool_result=text, tool_arguments=text, output_text=text, error_message=message,
            finish_reason=finish, declared_tools=["t"] if parented else None,
        ))
    findings = spans.findings()
    assert all(item.severity in ("high", "medium", "low") for item in findings)
    assert len({item.key for item in findings}) == len(findings)


# --- error ----------------------------------------------------------------------------------------


def test_error_groups_one_bug_into_one_finding() -> None:
    spans = Spans()
    for number in range(6):
        healthy_trace(spans, f"ok{number}", start=number * 10_000)
    messages = ["KeyError: 'user_1234' not in /srv/app/data/users.json",
                "KeyError: 'user_98' not in /srv/app/data/other.json",
                "KeyError: 'abc' not in /srv/app/x/users.json"]
    roots = []
    for number, message in enumerate(messages):
        root = spans.agent(f"bad{number}", start=100_000 + number * 10_000)
        roots.append(root)
        spans.tool(f"bad{number}", "lookup", parent=root, start=100_000 + number * 10_000 + 10, status="error",
                   error_type="KeyError", error_message=message)
        spans.tool(f"bad{number}", "lookup", parent=root, start=100_000 + number * 10_000 + 200)
    spans.tool("bad0", "lookup", parent=roots[0], start=100_500, status="error",
               error_type="PermissionError", error_message="permission denied")
    findings = of(spans.findings(), "error")
    assert len(findings) == 1  # one subject, one component to fix: one finding, its reasons inside
    grouped = findings[0]
    assert grouped.subject == "lookup" and grouped.affected_spans == 4 and grouped.affected_traces == 3
    assert grouped.detail["signature"] == "KeyError: '<v>' not in <path>"  # the most common reason
    assert [(item["reason"], item["count"]) for item in grouped.detail["reasons"]] == [
        ("KeyError: '<v>' not in <path>", 3), ("PermissionError: permission denied", 1)]
    assert grouped.detail["reasons"][0]["sample"] == "KeyError: 'user_1234' not in /srv/app/data/users.json"
    assert grouped.value == pytest.approx(4 / 7, abs=1e-6)  # 4 of 7 lookup calls fail
    assert grouped.severity == "high"  # most of its calls fail
    assert grouped.example_trace_ids == ("bad0", "bad1", "bad2")
    assert "(+1 other reason)" in grouped.title
    assert grouped.fix_target is not None and grouped.fix_target.kind == "tool"


def test_error_in_a_child_is_reported_at_the_root_cause_only() -> None:
    spans = Spans()
    root = spans.agent("t1", status="error", error_type="ValueError", error_message="bad input")
    middle = spans.add("t1", "call_tools", parent=root, start=5, duration=500, status="error")
    leaf = spans.tool("t1", "parse", parent=middle, start=10, status="error", error_type="ValueError",
                      error_message="bad input")
    findings = spans.findings()
    errors = of(findings, "error")
    assert len(errors) == 1
    assert errors[0].example_span_ids == (leaf,)
    assert errors[0].failed_traces == 1 and errors[0].severity == "high"
    assert errors[0].detail["propagatedTo"] == ["call_tools", "invoke_agent helper"]
    assert all(root not in item.example_span_ids and middle not in item.example_span_ids for item in findings)


def test_parent_with_an_error_of_its_own_is_its_own_finding() -> None:
    spans = Spans()
    root = spans.agent("t1", status="error", error_type="MaxTurnsExceeded", error_message="gave up after 10 turns")
    spans.tool("t1", "parse", parent=root, start=10, status="error", error_type="ValueError", error_message="bad")
    errors = of(spans.findings(), "error")
    assert sorted(item.subject for item in errors) == ["invoke_agent helper", "parse"]
    by_subject = {item.subject: item for item in errors}
    assert by_subject["invoke_agent helper"].failed_traces == 1
    assert by_subject["parse"].failed_traces == 0


def test_no_error_finding_when_nothing_failed() -> None:
    spans = Spans()
    healthy_trace(spans, "t1")
    spans.tool("t1", "lookup", status="ok", error_message="retry hint: none")
    assert of(spans.findings(), "error") == []


# --- tool_error -----------------------------------------------------------------------------------


@pytest.mark.parametrize("result", [
    "Error: could not open /tmp/a.txt",
    "An error occurred while running the tool. Please try again.",
    "Traceback (most recent call last):\n  File \"x.py\", line 3\nZeroDivisionError",
    '{"error": "quota for project 123 exhausted soon", "data": null}',
    '{"isError": true, "content": []}',
    "command finished\nexit code: 2",
])
def test_tool_error_reported_as_data(result: str) -> None:
    spans = Spans()
    healthy_trace(spans, "t0")
    spans.tool("t1", "shell", status="ok", tool_result=result)
    every = spans.findings()
    findings = of(every, "tool_error")
    assert len(findings) == 1 and findings[0].subject == "shell"
    assert of(every, "error") == []


@pytest.mark.parametrize("result", [
    "No errors found in 3 files", "Error handling is described in docs/errors.md",
    '{"error": null, "rows": 3}', '{"error": false}', "exit code: 0", "",
])
def test_tool_result_near_misses(result: str) -> None:
    spans = Spans()
    spans.tool("t1", "shell", status="ok", tool_result=result)
    assert of(spans.findings(), "tool_error") == []


def test_tool_result_with_error_status_is_an_error_not_a_tool_error() -> None:
    spans = Spans()
    spans.tool("t1", "shell", status="error", tool_result="Error: boom", error_message="boom")
    findings = spans.findings()
    assert [item.category for item in findings] == ["error"]


# --- rate_limit and timeout -----------------------------------------------------------------------


def test_rate_limit_with_retries() -> None:
    spans = Spans()
    root = spans.agent("t1")
    spans.llm("t1", parent=root, start=10, duration=200, status="error", error_type="RateLimitError",
              error_message="Error code: 429 - Too Many Requests", cost=None, input_tokens=None, output_tokens=None)
    spans.llm("t1", parent=root, start=2210, duration=800)
    spans.llm("t2", start=0, duration=800)
    findings = spans.findings()
    limits = of(findings, "rate_limit")
    assert len(limits) == 1
    finding = limits[0]
    assert finding.subject == "gpt-4o" and finding.detail["retries"] == 1 and finding.detail["recovered"] == 1
    assert finding.impact_seconds == pytest.approx(0.2 + 2.0)
    assert finding.failed_traces == 0
    assert of(findings, "error") == []


def test_overloaded_529_failing_the_trace_is_high() -> None:
    spans = Spans()
    root = spans.agent("t1", status="error", error_type="529", error_message="overloaded_error")
    spans.llm("t1", parent=root, model="claude-sonnet-4", status="error", error_type="529",
              error_message="Overloaded")
    finding = of(spans.findings(), "rate_limit")[0]
    assert finding.severity == "high" and finding.failed_traces == 1 and finding.detail["retries"] == 0


def test_an_ordinary_error_is_not_a_rate_limit() -> None:
    spans = Spans()
    spans.llm("t1", status="error", error_type="BadRequestError", error_message="invalid schema for tool 4291x")
    findings = spans.findings()
    assert of(findings, "rate_limit") == [] and of(findings, "timeout") == []
    assert len(of(findings, "error")) == 1


def test_timeout() -> None:
    spans = Spans()
    spans.tool("t1", "fetch_page", status="error", duration=30_000, error_type="ReadTimeout",
               error_message="HTTPSConnectionPool: Read timed out. (read timeout=30)")
    spans.tool("t2", "fetch_page", status="ok", tool_result="Error: request timed out after 10s")
    every = spans.findings()
    findings = of(every, "timeout")
    assert len(findings) == 1
    assert findings[0].affected_spans == 2 and findings[0].impact_seconds == pytest.approx(30.1)
    assert of(every, "tool_error") == []


def test_timeout_near_miss() -> None:
    spans = Spans()
    spans.tool("t1", "fetch_page", status="ok", tool_arguments='{"timeout": 30}', tool_result="200 OK")
    assert of(spans.findings(), "timeout") == []


@pytest.mark.parametrize(("error_type", "message", "category"), [
    ("TimeoutError", "", "timeout"),
    (None, "DEADLINE_EXCEEDED while calling search", "timeout"),
    (None, "Runtime output invalid", "error"),
    ("openai.RateLimitError", "slow down", "rate_limit"),
    (None, "RESOURCE_EXHAUSTED: quota", "rate_limit"),
    (None, "accurate limit of 3 reached", "error"),
    ("ToolNotFoundError", "", "unknown_tool"),
    (None, "No such file or directory: 'tool.py'", "error"),
])
def test_failures_are_classified_once(error_type: str | None, message: str, category: str) -> None:
    spans = Spans()
    spans.tool("t1", "search", status="error", error_type=error_type, error_message=message)
    failures = [item for item in spans.findings()
                if item.category in ("error", "rate_limit", "timeout", "unknown_tool")]
    assert [item.category for item in failures] == [category]


# --- latency --------------------------------------------------------------------------------------


def _fetches(spans: Spans, durations: list[float], *, trace_prefix: str = "t", tool: str = "fetch") -> None:
    for index, duration in enumerate(durations):
        trace = f"{trace_prefix}{index}"
        root = spans.agent(trace, start=index * 100_000, duration=duration + 5_000)
        spans.llm(trace, parent=root, start=index * 100_000 + 10, duration=4_000)
        spans.tool(trace, tool, parent=root, start=index * 100_000 + 4_100, duration=duration)


def test_latency_outlier_against_median_and_mad() -> None:
    spans = Spans()
    _fetches(spans, [100, 110, 95, 105, 120, 100, 90, 8_000])
    findings = of(spans.findings(), "latency")
    assert len(findings) == 1
    finding = findings[0]
    assert finding.metric == "outlier_duration_ms" and finding.subject == "fetch"
    assert finding.baseline == pytest.approx(102.5) and finding.value == pytest.approx(8_000)
    assert finding.impact_seconds == pytest.approx((8_000 - 102.5) / 1000, abs=1e-3)
    assert finding.example_trace_ids == ("t7",)
    assert finding.detail["p95Ms"] > finding.detail["p50Ms"]


def test_latency_spread_without_outlier() -> None:
    spans = Spans()
    _fetches(spans, [100, 150, 190, 120, 170, 110, 160, 180, 900])  # 900 ms: < min excess of 1 s
    assert of(spans.findings(), "latency") == []


def test_latency_dominant_tool() -> None:
    spans = Spans()
    _fetches(spans, [20_000] * 5)
    findings = of(spans.findings(), "latency")
    assert [item.metric for item in findings] == ["wall_time_share"]
    assert findings[0].severity == "low" and findings[0].value > 0.5


def test_latency_regression_against_previous_window() -> None:
    previous = Spans()
    _fetches(previous, [100, 110, 120, 100, 105, 95], trace_prefix="p")
    current = Spans()
    _fetches(current, [900, 1_000, 1_100, 950, 1_050, 1_000])
    with current.connect() as connection:
        connection.execute("CREATE TABLE previous_spans AS SELECT * FROM spans LIMIT 0")
        placeholders = ", ".join("?" for _ in SPAN_COLUMNS)
        connection.executemany(
            f"INSERT INTO previous_spans ({', '.join(SPAN_COLUMNS)}) VALUES ({placeholders})",
            [[row.get(column) for column in SPAN_COLUMNS] for row in previous.rows],
        )
        with_previous = find_findings(connection, agent_uuid=AGENT, table="spans", previous_table="previous_spans")
        without = find_findings(connection, agent_uuid=AGENT, table="spans")
    regressions = [item for item in with_previous if item.metric == "p95_duration_ms"]
    assert len(regressions) == 1 and regressions[0].subject == "fetch"
    assert regressions[0].baseline == pytest.approx(117.5) and regressions[0].severity == "medium"
    assert not [item for item in without if item.metric == "p95_duration_ms"]


# --- cost -----------------------------------------------------------------------------------------


def test_costly_trace_far_above_the_median() -> None:
    spans = Spans()
    for number in range(6):
        healthy_trace(spans, f"t{number}", start=number * 10_000, cost=0.01)
    root = spans.agent("big", start=100_000)
    spans.llm("big", parent=root, start=100_010, cost=1.50, input_tokens=200_000)
    findings = [item for item in of(spans.findings(), "cost") if item.metric == "trace_cost_usd"]
    assert len(findings) == 1
    assert findings[0].example_trace_ids == ("big",)
    assert findings[0].baseline == pytest.approx(0.02)
    assert findings[0].impact_usd == pytest.approx(1.48)
    assert findings[0].severity == "medium"


def test_cost_near_miss_and_unpriced_never_zero() -> None:
    spans = Spans()
    for number in range(6):
        healthy_trace(spans, f"t{number}", start=number * 10_000, cost=0.01)
    # Expensive in tokens but unpriced: must not make a $0 trace, nor an outlier, nor lower the median.
    for number in range(3):
        spans.llm(f"u{number}", model="mystery-model", cost=None, input_tokens=500_000)
    findings = spans.findings()
    assert of(findings, "cost") == []
    unpriced = [item for item in of(findings, "data_quality") if item.metric == "unpriced_usage"]
    assert len(unpriced) == 1 and unpriced[0].subject == "mystery-model"
    assert unpriced[0].impact_usd is None and unpriced[0].detail["inputTokens"] == 1_500_000


def test_expensive_model_where_a_cheaper_one_serves_the_same_calls() -> None:
    spans = Spans()
    for number in range(4):
        root = spans.agent(f"a{number}", start=number * 10_000)
        spans.llm(f"a{number}", parent=root, model="gpt-4o", cost=0.05, start=number * 10_000 + 10)
        root = spans.agent(f"b{number}", start=100_000 + number * 10_000)
        spans.llm(f"b{number}", parent=root, model="gpt-4o-mini", cost=0.002, start=100_000 + number * 10_000 + 10)
    findings = [item for item in of(spans.findings(), "cost") if item.metric == "cost_per_call_usd"]
    assert len(findings) == 1
    finding = findings[0]
    assert finding.subject == "gpt-4o" and finding.detail["cheaperModel"] == "gpt-4o-mini"
    assert finding.impact_usd == pytest.approx(4 * (0.05 - 0.002))
    assert finding.detail["callSite"] == "invoke_agent helper"


def test_model_price_gap_below_ratio_is_fine() -> None:
    spans = Spans()
    for number in range(4):
        spans.llm(f"a{number}", model="gpt-4o", cost=0.004)
        spans.llm(f"b{number}", model="gpt-4o-mini", cost=0.002)
    assert of(spans.findings(), "cost") == []


def test_context_growth() -> None:
    spans = Spans()
    root = spans.agent("t1", duration=60_000)
    for turn, tokens in enumerate([5_000, 9_000, 14_000, 21_000, 30_000, 42_000]):
        spans.llm("t1", parent=root, start=turn * 5_000, input_tokens=tokens, cost=tokens * 1e-6)
    findings = [item for item in of(spans.findings(), "cost") if item.metric == "input_tokens_per_call"]
    assert len(findings) == 1
    finding = findings[0]
    assert finding.value == 42_000 and finding.baseline == 5_000
    assert finding.detail["extraInputTokens"] == sum(t - 5_000 for t in [9_000, 14_000, 21_000, 30_000, 42_000])
    assert finding.impact_usd == pytest.approx(0.091)


def test_flat_context_is_fine() -> None:
    spans = Spans()
    for turn, tokens in enumerate([30_000, 30_500, 29_800, 31_000, 30_200, 30_900]):
        spans.llm("t1", start=turn * 5_000, input_tokens=tokens)
    assert of(spans.findings(), "cost") == []


def test_cost_regression_against_previous_window() -> None:
    spans = Spans()
    for number in range(6):
        healthy_trace(spans, f"now{number}", start=number * 10_000, cost=0.05)
    for number in range(6):
        healthy_trace(spans, f"before{number}", start=-100_000 + number * 10_000, cost=0.01)
    with spans.connect() as connection:
        connection.execute("CREATE VIEW current_window AS SELECT * FROM spans WHERE start_time >= '2026-01-01'")
        connection.execute("CREATE VIEW previous_window AS SELECT * FROM spans WHERE start_time < '2026-01-01'")
        findings = find_findings(connection, agent_uuid=AGENT, table="current_window", previous_table="previous_window")
    regression = [item for item in findings if item.metric == "mean_trace_cost_usd"]
    assert len(regression) == 1
    assert regression[0].value == pytest.approx(0.1) and regression[0].baseline == pytest.approx(0.02)
    assert regression[0].impact_usd == pytest.approx(6 * 0.08)


# --- loop -----------------------------------------------------------------------------------------


def test_same_tool_same_arguments_three_times() -> None:
    spans = Spans()
    root = spans.agent("t1", duration=60_000)
    for turn in range(4):
        spans.llm("t1", parent=root, start=turn * 2_000, duration=500, input_tokens=1_000, output_tokens=50,
                  cost=0.01)
        spans.tool("t1", "read_file", parent=root, start=turn * 2_000 + 600, duration=100,
                   tool_arguments='{"path": "a.txt",  "start": 1}' if turn % 2 else '{"path":"a.txt","start":1}')
    findings = of(spans.findings(), "loop")
    assert len(findings) == 1
    finding = findings[0]
    assert finding.subject == "read_file" and finding.value == 4 and finding.detail["wastedCalls"] == 3
    assert finding.detail["wastedTokens"] == 3 * 1_050
    assert finding.impact_usd == pytest.approx(0.03)
    assert finding.impact_seconds == pytest.approx(3 * 0.1 + 3 * 0.5)


def test_loop_near_misses() -> None:
    spans = Spans()
    for turn in range(2):
        spans.tool("t1", "read_file", start=turn * 1_000, tool_arguments='{"path": "a.txt"}')
    for turn in range(3):
        spans.tool("t2", "read_file", start=turn * 1_000, tool_arguments=json.dumps({"path": f"{turn}.txt"}))
    for trace in ("t3", "t4", "t5"):
        spans.tool(trace, "read_file", tool_arguments='{"path": "a.txt"}')
    for turn in range(3):
        spans.tool("t6", "list", start=turn * 1_000)  # no arguments recorded: nothing to compare
    assert of(spans.findings(), "loop") == []


def test_repeated_identical_model_outputs() -> None:
    spans = Spans()
    for turn in range(3):
        spans.llm("t1", start=turn * 2_000, output_text="I will now check the file again.", cost=0.02)
    spans.llm("t2", output_text="I will now check the file again.")
    findings = of(spans.findings(), "loop")
    assert len(findings) == 1 and findings[0].metric == "repeated_outputs"
    assert findings[0].impact_usd == pytest.approx(0.04) and findings[0].affected_traces == 1


# --- unknown_tool ---------------------------------------------------------------------------------


def test_undeclared_and_not_found_tools() -> None:
    spans = Spans()
    root = spans.agent("t1")
    spans.llm("t1", parent=root, declared_tools=["search", "read_file"], finish_reason="tool_calls")
    spans.tool("t1", "browse", parent=root, start=1_100, tool_result="page text")
    spans.add("t1", "run tools", parent=root, start=1_300, status="error", error_type="ToolNotFound",
              error_message="Tool 'delete_everything' not found in agent helper")
    spans.tool("t1", "search", parent=root, start=1_500)
    every = spans.findings()
    findings = of(every, "unknown_tool")
    assert {(item.subject, item.metric) for item in findings} == {
        ("browse", "undeclared_calls"), ("delete_everything", "not_found_calls")}
    assert of(every, "error") == []
    undeclared = next(item for item in findings if item.metric == "undeclared_calls")
    assert undeclared.severity == "low"


def test_declared_tools_are_not_unknown() -> None:
    spans = Spans()
    healthy_trace(spans, "t1", tools=("search", "Read_File"))
    spans.tool("t1", "read_file", start=5_000)  # case and punctuation do not matter
    spans.llm("t2", declared_tools=["get_weather", "Wikipedia"])
    spans.tool("t2", "mcp__weather__get_weather", start=1_100)  # exporters decorate names
    spans.tool("t2", "tool.search.wikipedia.start-12", start=1_200)
    spans.tool("t3", "browse")  # a trace without declarations is not judged
    spans.tool("t3", "search", status="error", error_message="No such file or directory: /x/y")
    findings = spans.findings()
    assert of(findings, "unknown_tool") == []


# --- truncation, refusal, empty_output ------------------------------------------------------------


def test_truncation() -> None:
    spans = Spans()
    for number in range(4):
        spans.llm(f"t{number}", finish_reason="length", output_tokens=4096, output_text="partial")
    spans.llm("t9", finish_reason="stop")
    finding = of(spans.findings(), "truncation")[0]
    assert finding.affected_spans == 4 and finding.value == pytest.approx(0.8) and finding.severity == "high"


def test_truncation_near_miss() -> None:
    spans = Spans()
    spans.llm("t1", finish_reason="stop", output_tokens=4096)
    spans.llm("t2", finish_reason="end_turn")
    assert of(spans.findings(), "truncation") == []


def test_refusal_by_filter_and_by_text() -> None:
    spans = Spans()
    spans.llm("t1", finish_reason="content_filter", output_text="")
    spans.llm("t2", finish_reason="stop", output_text="I'm sorry, but I can't help with that request.")
    spans.llm("t3", finish_reason="stop", output_text="Sure, here it is.")
    finding = of(spans.findings(), "refusal")[0]
    assert finding.affected_spans == 2
    assert finding.detail["filteredCalls"] == 1 and finding.detail["textRefusals"] == 1


def test_refusal_near_miss() -> None:
    spans = Spans()
    spans.llm("t1", finish_reason="stop", output_text="I'm sorry for the delay, here is the report you asked for.")
    spans.llm("t2", finish_reason="stop", output_text="I can't find a bug in this function; it looks correct.")
    assert of(spans.findings(), "refusal") == []


def test_empty_output() -> None:
    spans = Spans()
    spans.llm("t1", output_tokens=0, output_text=None, finish_reason="stop")
    spans.llm("t2", output_tokens=None, output_text="   ", finish_reason="stop")
    spans.llm("t3", output_text="A real answer.")
    finding = of(spans.findings(), "empty_output")[0]
    assert finding.affected_spans == 2 and finding.subject == "gpt-4o"


def test_empty_output_near_misses() -> None:
    spans = Spans()
    spans.llm("t1", output_tokens=0, finish_reason="tool_calls")  # asked for a tool
    spans.llm("t2", output_tokens=0, start=0)  # followed by the tool it asked for
    spans.tool("t2", "search", start=1_100)
    spans.llm("t3", output_tokens=12, output_text=None)  # output simply not recorded
    spans.llm("t4", output_tokens=0, status="error")  # an error, not an empty output
    assert of(spans.findings(), "empty_output") == []


# --- excessive_steps ------------------------------------------------------------------------------


def test_excessive_steps() -> None:
    spans = Spans()
    for number in range(6):
        healthy_trace(spans, f"t{number}", start=number * 100_000)
    root = spans.agent("long", start=1_000_000, duration=60_000)
    for turn in range(12):
        spans.llm("long", parent=root, start=1_000_000 + turn * 4_000, cost=0.001)
    findings = of(spans.findings(), "excessive_steps")
    assert [(item.metric, item.value, item.baseline) for item in findings] == [("llm_calls_per_trace", 12, 2)]
    assert findings[0].example_trace_ids == ("long",) and findings[0].example_span_ids == (root,)
    assert findings[0].impact_usd == pytest.approx(0.010)


def test_steps_near_miss_and_absolute_ceiling() -> None:
    spans = Spans()
    for number in range(6):
        healthy_trace(spans, f"t{number}", start=number * 100_000)
    for turn in range(5):  # 5 calls: >= 3x the median of 2 but not median + 5
        spans.llm("longish", start=turn * 1_000)
    assert of(spans.findings(), "excessive_steps") == []

    few = Spans()
    for turn in range(50):
        few.tool("only", "poll", start=turn * 10, tool_arguments=json.dumps({"n": turn}))
    for turn in range(50):
        few.llm("only", start=turn * 10)
    findings = of(few.findings(), "excessive_steps")
    assert [item.metric for item in findings] == ["llm_calls_per_trace"]  # tool ceiling is 100
    assert findings[0].severity == "medium" and findings[0].detail["overCeiling"] is True


# --- data_quality ---------------------------------------------------------------------------------


def test_data_quality_problems() -> None:
    spans = Spans()
    root = spans.agent("t1", duration=1_000)
    spans.tool("t1", "orphan", parent="0000000000000bad", start=10)
    spans.tool("t1", "skewed", parent=root, start=-500, duration=100)
    spans.tool("t1", "hanging", parent=root, start=10, duration=None)
    spans.tool("t2", "backwards", duration=-50)
    metrics = {item.metric: item for item in of(spans.findings(), "data_quality")}
    assert set(metrics) == {"orphan_spans", "clock_skew_spans", "unfinished_spans", "negative_duration_spans"}
    assert metrics["negative_duration_spans"].severity == "medium"
    assert metrics["orphan_spans"].example_span_ids == (spans.rows[1]["span_id"],)


def test_data_quality_near_misses() -> None:
    spans = Spans()
    sub_agent = spans.agent("t1", parent="parent-in-other-agent")  # a sub-agent: one top span
    spans.tool("t1", "inside", parent=sub_agent, start=-5, duration=10_010)  # within the 10 ms tolerance
    spans.llm("t1", parent=sub_agent, start=10)
    assert of(spans.findings(), "data_quality") == []


# --- ranking, keys, JSON ---------------------------------------------------------------------------


def _finding(**changes: Any) -> Finding:
    base = Finding(
        category="error", severity="medium", title="t", subject="s", agent_uuid=AGENT, metric="failure_rate",
        value=0.5, baseline=None, affected_traces=1, affected_spans=1, trace_share=0.1, span_share=0.5,
        impact_seconds=0.0, impact_usd=None, failed_traces=0, first_seen=EPOCH, last_seen=EPOCH,
        example_trace_ids=("t1",), example_span_ids=("s1",), detail={"signature": "x"},
    )
    return replace(base, **changes)


def test_ranking_formula_and_ties() -> None:
    high = _finding(severity="high", subject="a")  # 9 x (1 + 0) = 9
    medium_failing = _finding(severity="medium", subject="b", failed_traces=3)  # 3 x (1 + 30) = 93
    low_costly = _finding(severity="low", subject="c", impact_usd=2.0, impact_seconds=120.0)  # 1 x (1 + 20 + 2)
    tie_later_category = _finding(category="latency", severity="high", subject="a")
    tie_same_category = _finding(severity="high", subject="0")
    ranked = rank_findings([tie_later_category, high, medium_failing, low_costly, tie_same_category])
    assert ranked == [medium_failing, low_costly, tie_same_category, high, tie_later_category]
    assert (high.score, medium_failing.score, low_costly.score) == (9.0, 93.0, 23.0)


def test_equal_findings_list_the_earliest_problem_first() -> None:
    later = _finding(subject="a", first_seen=EPOCH + timedelta(seconds=5))
    earlier = _finding(subject="z", first_seen=EPOCH)
    unknown = _finding(subject="0", first_seen=None)
    assert rank_findings([unknown, later, earlier]) == [earlier, later, unknown]


def test_findings_are_deterministic_and_keys_stable() -> None:
    spans = Spans()
    for number in range(6):
        healthy_trace(spans, f"t{number}", start=number * 10_000)
    for number in range(3):
        spans.tool(f"e{number}", "lookup", status="error", error_message=f"missing id {number}")
        spans.llm(f"e{number}", finish_reason="length")
    first, second = spans.findings(), spans.findings()
    assert first == second and len(first) >= 2
    assert [item.key for item in first] == [item.key for item in second]
    assert first[0].key.startswith(f"{first[0].category}:{first[0].subject or '-'}:")


def test_json_round_trip() -> None:
    spans = Spans()
    spans.tool("t1", "lookup", status="error", error_message="boom 1")
    spans.tool("t1", "lookup", status="error", error_message="boom 2", start=500)
    finding = spans.findings()[0]
    document = json.loads(json.dumps(finding.to_json()))
    assert set(document) == {
        "category", "severity", "title", "subject", "agentUuid", "metric", "value", "baseline", "affectedTraces",
        "affectedSpans", "traceShare", "spanShare", "impactSeconds", "impactUsd", "failedTraces", "firstSeenAt",
        "lastSeenAt", "exampleTraceIds", "exampleSpanIds", "affectedTraceIds", "detail", "fixTarget", "key"}
    assert document["firstSeenAt"] == "2026-01-01T00:00:00Z"
    assert Finding.from_json(document) == finding
    assert Finding.from_json(document).key == document["key"]


# --- thresholds -----------------------------------------------------------------------------------


def test_thresholds_from_file_and_overrides(tmp_path: Path) -> None:
    assert load_thresholds(None) == Thresholds()
    (tmp_path / "heuristics.toml").write_text(
        "loop_min_repeats = 4\n[latency]\noutlier_mad = 3.5\n[failure]\nhigh_rate = 0.9\n", encoding="utf-8")
    thresholds = load_thresholds(tmp_path, {"loop_min_repeats": "5", "cost_high_usd": 2})
    assert thresholds.loop_min_repeats == 5 and isinstance(thresholds.loop_min_repeats, int)
    assert thresholds.latency_outlier_mad == 3.5 and thresholds.failure_high_rate == 0.9
    assert thresholds.cost_high_usd == 2.0


@pytest.mark.parametrize(("text", "message"), [
    ("loop_min_repaets = 4\n", "did you mean 'loop_min_repeats'"),
    ("loop_min_repeats = 2.5\n", "whole number"),
    ("failure_high_rate = 1.5\n", "between 0 and 1"),
    ("latency_outlier_mad = -1\n", ">= 0"),
    ("latency_outlier_mad = 'x'\n", "must be a number"),
    ("latency_outlier_mad = \n", "not valid TOML"),
])
def test_bad_thresholds_file(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "heuristics.toml").write_text(text, encoding="utf-8")
    with pytest.raises(HaloLocalError) as raised:
        load_thresholds(tmp_path)
    assert message in raised.value.message + (raised.value.hint or "")


def test_thresholds_change_what_is_found() -> None:
    spans = Spans()
    for turn in range(2):
        spans.tool("t1", "read_file", start=turn * 1_000, tool_arguments='{"path": "a.txt"}')
    assert of(spans.findings(), "loop") == []
    stricter = load_thresholds(None, {"loop_min_repeats": 2})
    assert len(of(spans.findings(thresholds=stricter), "loop")) == 1


def test_error_finding_quotes_the_failed_tool_result_on_one_line() -> None:
    spans = Spans()
    cause = "Error running tool:\n[Errno 2] No such file or directory: '/srv/x' " + "padding " * 40
    spans.tool("t1", "list_files", status="error", status_message="Error running tool (non-fatal)",
               tool_result=cause)
    finding = of(spans.findings(), "error")[0]
    sample = finding.detail["sampleResult"]
    assert sample.startswith("Error running tool: [Errno 2] No such file or directory: '/srv/x'")
    assert "\n" not in sample and len(sample) == 200 and sample.endswith("…")


def test_a_connection_creates_the_macros_once_and_keeps_them_to_itself() -> None:
    spans = Spans()
    healthy_trace(spans, "t1")
    with spans.connect() as connection:
        statements: list[str] = []
        connection.execute("SET VARIABLE halo_h_macro_set = 'stale'")  # an older set is replaced
        first = analyze(connection, agent_uuid=AGENT, table="spans")
        kept = connection.execute(
            "SELECT count(*) FROM duckdb_functions() WHERE function_name LIKE 'halo_h_%'").fetchone()
        recording = _Recording(connection, statements)
        second = analyze(recording, agent_uuid=AGENT, table="spans")  # type: ignore[arg-type]
        other = connection.cursor()
        held_elsewhere = other.execute(
            "SELECT count(*) FROM duckdb_functions() WHERE function_name LIKE 'halo_h_%'").fetchone()
    assert kept is not None and kept[0] > 20
    assert not [statement for statement in statements if "TEMP MACRO" in statement]
    assert second.checks == first.checks and second.findings == first.findings
    assert held_elsewhere == (0,)


class _Recording:
    """A connection that records the statements it runs."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, statements: list[str]) -> None:
        self._connection = connection
        self._statements = statements

    def execute(self, sql: str, parameters: object = None) -> duckdb.DuckDBPyConnection:
        self._statements.append(sql)
        return self._connection.execute(sql, parameters)

    def __getattr__(self, name: str) -> object:
        return getattr(self._connection, name)
