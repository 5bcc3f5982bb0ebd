"""Trace verdicts ranked in SQL give exactly what the Python ranking gave: the same scores (rounded as
Python's round(x, 4)), ranks, finding keys and columns, over generated windows and findings; and a
run's verdicts saved in the store read back in rank order."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from halo_local.heuristics.finding import Finding
from halo_local.store import Store
from halo_local.verdicts import OUTCOME_POINTS, SEVERITY_POINTS, TraceVerdict, build_verdicts, read_first, save_verdicts


def python_verdicts(outcomes: Sequence[Mapping[str, Any]], findings: Sequence[Finding]) -> list[TraceVerdict]:
    """The ranking as it was written in Python before it moved to SQL: the oracle of these tests."""
    covering: dict[str, list[str]] = {}
    points: dict[str, float] = {}
    for finding in findings:
        weight = SEVERITY_POINTS.get(finding.severity, 1.0) * max(0.0, 1.0 - float(finding.trace_share or 0.0))
        for trace_id in dict.fromkeys(finding.affected_trace_ids or ()):
            covering.setdefault(trace_id, []).append(finding.key)
            points[trace_id] = points.get(trace_id, 0.0) + weight
    scored = []
    for row in outcomes:
        trace_id = str(row["trace_id"])
        score = round(OUTCOME_POINTS.get(row["outcome"], 0.0) + points.get(trace_id, 0.0), 4)
        scored.append((score, row))
    scored.sort(key=lambda item: (-item[0], -(item[1]["duration_ms"] or 0.0), str(item[1]["trace_id"])))
    return [
        TraceVerdict(
            trace_id=str(row["trace_id"]), rank=rank, score=score, outcome=str(row["outcome"]),
            ended_badly=bool(row["ended_badly"]), outcome_span_id=row["outcome_span_id"],
            finding_keys=tuple(covering.get(str(row["trace_id"]), ())), spans=row["spans"],
            duration_ms=row["duration_ms"], first_seen=row["first_seen"],
        )
        for rank, (score, row) in enumerate(scored, start=1)
    ]


def finding(subject: str, severity: str, trace_share: float, trace_ids: Sequence[str]) -> Finding:
    return Finding.from_json({
        "category": "error", "severity": severity, "title": "t", "subject": subject, "agentUuid": "agent",
        "metric": "m", "value": None, "baseline": None, "affectedTraces": len(trace_ids), "affectedSpans": 1,
        "traceShare": trace_share, "spanShare": 0.0, "impactSeconds": 0.0, "impactUsd": None, "failedTraces": 0,
        "affectedTraceIds": list(trace_ids), "exampleTraceIds": list(trace_ids)[:3]})


def findings_json(findings: Sequence[Finding]) -> str:
    """The findings as a run saves them."""
    return json.dumps([item.to_json() for item in findings], default=str)


def outcome_row(trace_id: str, outcome: str = "ok", duration_ms: float | None = 1.0,
                first_seen: datetime | None = None) -> dict[str, Any]:
    return {"trace_id": trace_id, "outcome": outcome, "ended_badly": outcome != "ok", "outcome_span_id": None,
            "spans": 1, "duration_ms": duration_ms, "first_seen": first_seen}


TRACE_IDS = st.text(st.characters(codec="utf-8", min_codepoint=1, exclude_categories=["Cs"]), min_size=1, max_size=4)
DURATIONS = st.one_of(st.none(), st.sampled_from([0.0, 1.0, 2.5, 1e-7]),
                      st.floats(min_value=-1e6, max_value=1e9, allow_nan=False))
MOMENTS = st.one_of(st.none(), st.integers(min_value=0, max_value=10**14).map(
    lambda micros: datetime(2026, 1, 1) + timedelta(microseconds=micros)))
SHARES = st.one_of(st.sampled_from([0.0, 1.0, 1.5, 0.125, 0.375]),
                   st.builds(lambda part, whole: part / whole, st.integers(0, 60), st.integers(1, 60)),
                   st.floats(min_value=0.0, max_value=1.2, allow_nan=False))


@st.composite
def windows(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[Finding]]:
    trace_ids = draw(st.lists(TRACE_IDS, max_size=25, unique=True))
    outcomes = [{
        "trace_id": trace_id,
        "outcome": draw(st.sampled_from([*OUTCOME_POINTS, "unknown"])),
        "ended_badly": draw(st.one_of(st.none(), st.booleans())),
        "outcome_span_id": draw(st.one_of(st.none(), st.just("span-1"))),
        "spans": draw(st.one_of(st.none(), st.integers(0, 10**6))),
        "duration_ms": draw(DURATIONS),
        "first_seen": draw(MOMENTS),
    } for trace_id in trace_ids]
    covered = st.sampled_from([*trace_ids, "not-in-window"]) if trace_ids else st.just("not-in-window")
    findings = [
        finding(draw(st.sampled_from(["a", "b", "c", "d"])), draw(st.sampled_from([*SEVERITY_POINTS, "odd"])),
                draw(SHARES), draw(st.lists(covered, max_size=30)))
        for _ in range(draw(st.integers(0, 6)))
    ]
    return outcomes, findings


@settings(max_examples=80)
@given(windows())
def test_sql_ranking_is_the_python_ranking(window: tuple[list[dict[str, Any]], list[Finding]]) -> None:
    outcomes, findings = window
    assert build_verdicts(outcomes, findings) == python_verdicts(outcomes, findings)


def test_scores_round_as_python_does_at_ties_and_near_them() -> None:
    """Scores whose fifth decimal is a 5 (exactly, or a binary hair either side of it): DuckDB's round()
    disagrees with Python's on such values, the SQL ranking must not."""
    shares = [1 - 0.0625, 1 - 0.1875, 1 - 0.00015, 1 - 0.00025, 1 - 0.33335, 0.99995, 0.5 + 1e-12]
    outcomes = [outcome_row(f"t{index}") for index in range(len(shares))]
    findings = [finding(f"s{index}", "low", share, [f"t{index}"]) for index, share in enumerate(shares)]
    assert build_verdicts(outcomes, findings) == python_verdicts(outcomes, findings)


def test_a_run_s_verdicts_are_saved_in_rank_order_and_read_first_is_the_flagged_head(store: Store) -> None:
    moment = datetime(2026, 5, 1, 12, 30, 15, 123456)
    outcomes = [outcome_row("ok-long", duration_ms=9.0), outcome_row("failed", "failed", first_seen=moment),
                outcome_row("covered"), outcome_row("ok-short", duration_ms=None)]
    findings = [finding("x", "high", 0.25, ["covered", "covered", "failed", "elsewhere"])]
    with store.connect() as connection:
        save_verdicts(connection, "run_1", outcomes, findings_json(findings))
        save_verdicts(connection, "run_1", outcomes, findings_json(findings))  # replaces, never duplicates
        saved = connection.execute("SELECT trace_id, rank, score, finding_keys, first_seen FROM trace_verdicts"
                                   " WHERE run_id = 'run_1' ORDER BY rank").fetchall()
        flagged = read_first(connection, "run_1", 5)
        assert read_first(connection, "run_1", 1) == flagged[:1]
    key = findings[0].key
    assert saved == [("failed", 1, 12.25, [key], moment), ("covered", 2, 2.25, [key], None),
                     ("ok-long", 3, 0.0, [], None), ("ok-short", 4, 0.0, [], None)]
    assert flagged == python_verdicts(outcomes, findings)[:2]


def test_a_window_without_traces_saves_no_verdicts(store: Store) -> None:
    with store.connect() as connection:
        save_verdicts(connection, "run_1", [outcome_row("a")], "[]")
        save_verdicts(connection, "run_1", [], "[]")
        assert connection.execute("SELECT count(*) FROM trace_verdicts").fetchall() == [(0,)]
    assert build_verdicts([], []) == []
