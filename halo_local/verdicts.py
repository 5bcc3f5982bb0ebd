"""Trace verdicts: every trace of a run's window, how it ended and the findings that cover it,
ranked by how likely the trace failed, so a reader knows which traces to open first.

The score of a trace (documented here because `run traces` and the report depend on it):

    score = OUTCOME_POINTS[outcome] + sum(SEVERITY_POINTS[f.severity] * (1 - f.traceShare))

over the findings `f` whose affected traces include it. A bad ending (a failed root, a hand-off, a
give-up, a run cut short) weighs most; a finding weighs by its severity and by how specific it is:
one that covers every trace of the window (a cost regression, a data-quality note) tells the
traces apart no more than none. Ties by duration (longest first), then trace id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import duckdb

from halo_local.common.rows import rows_as_dicts
from halo_local.heuristics.finding import Finding
from halo_local.resources import sql_text
from halo_local.store import Store

if TYPE_CHECKING:
    from halo_local.runs.run_document import RunDocument

__all__ = ["OUTCOME_POINTS", "SEVERITY_POINTS", "TraceVerdict", "build_verdicts", "list_verdicts", "save_verdicts"]

OUTCOME_POINTS: dict[str, float] = {"failed": 10.0, "handed_off": 6.0, "gave_up": 6.0, "cut_short": 6.0, "ok": 0.0}
SEVERITY_POINTS: dict[str, float] = {"high": 3.0, "medium": 2.0, "low": 1.0}


@dataclass(frozen=True)
class TraceVerdict:
    """One trace of a run's window: its rank (1 = read first), score, how it ended and the keys of
    the findings that cover it (in the findings' rank order)."""

    trace_id: str
    rank: int
    score: float
    outcome: str
    ended_badly: bool
    outcome_span_id: str | None
    finding_keys: tuple[str, ...]
    spans: int | None
    duration_ms: float | None
    first_seen: datetime | None


def build_verdicts(outcomes: Sequence[Mapping[str, Any]],
                   findings: Sequence[Finding]) -> list[TraceVerdict]:
    """Rank the window's traces: `outcomes` are rows of `_outcome_rows.sql`, `findings` the run's
    findings, ranked, with their complete `affected_trace_ids`."""
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


def save_verdicts(connection: duckdb.DuckDBPyConnection, run_id: str, verdicts: Sequence[TraceVerdict]) -> None:
    """Replace the run's verdicts (inside the caller's transaction), in one insert from Arrow."""
    connection.execute(sql_text("runs/delete_trace_verdicts.sql"), {"run_id": run_id})
    if not verdicts:
        return
    import pyarrow  # imported here so that commands which never save verdicts start faster

    rows = pyarrow.table({
        "trace_id": pyarrow.array([item.trace_id for item in verdicts], pyarrow.string()),
        "rank": pyarrow.array([item.rank for item in verdicts], pyarrow.int32()),
        "score": pyarrow.array([item.score for item in verdicts], pyarrow.float64()),
        "outcome": pyarrow.array([item.outcome for item in verdicts], pyarrow.string()),
        "ended_badly": pyarrow.array([item.ended_badly for item in verdicts], pyarrow.bool_()),
        "outcome_span_id": pyarrow.array([item.outcome_span_id for item in verdicts], pyarrow.string()),
        "finding_keys": pyarrow.array([list(item.finding_keys) for item in verdicts], pyarrow.list_(pyarrow.string())),
        "spans": pyarrow.array([item.spans for item in verdicts], pyarrow.int64()),
        "duration_ms": pyarrow.array([item.duration_ms for item in verdicts], pyarrow.float64()),
        "first_seen": pyarrow.array([item.first_seen for item in verdicts], pyarrow.timestamp("us")),
    })
    connection.register("halo_verdict_rows", rows)
    try:
        connection.execute(sql_text("runs/insert_trace_verdicts.sql"), {"run_id": run_id})
    finally:
        connection.unregister("halo_verdict_rows")


def list_verdicts(store: Store, run: RunDocument, *, flagged: bool = False,
                  limit: int = 100) -> dict[str, Any]:
    """The `run traces` document: the run's traces in rank order, each with the findings (key,
    category, severity, title) that flag it; counts of all, flagged and badly ended traces."""
    by_key = {item.key: item for item in run.findings or ()}
    with store.connect() as connection:
        counts = rows_as_dicts(connection.execute(sql_text("runs/trace_verdict_counts.sql"),
                                                         {"run_id": run.run_id}))[0]
        rows = rows_as_dicts(connection.execute(sql_text("runs/trace_verdicts.sql"), {
            "run_id": run.run_id, "flagged": flagged, "row_limit": int(limit)}))
    listed = []
    for row in rows:
        keys = row.pop("findingKeys") or []
        row["findings"] = [
            {"key": key, "category": by_key[key].category, "severity": by_key[key].severity,
             "title": by_key[key].title}
            for key in keys if key in by_key
        ]
        listed.append(row)
    return {"runId": run.run_id, "status": run.status, "flaggedOnly": flagged, "totalTraces": counts["traces"],
            "flaggedTraces": counts["flagged"], "endedBadly": counts["endedBadly"], "traces": listed}
