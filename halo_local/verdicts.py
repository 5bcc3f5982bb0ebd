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

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import duckdb

from halo_local.common.rows import rows_as_dicts
from halo_local.heuristics.finding import Finding
from halo_local.resources import sql_template, sql_text
from halo_local.store import Store

if TYPE_CHECKING:
    from halo_local.runs.run_document import RunDocument

__all__ = ["OUTCOME_POINTS", "SEVERITY_POINTS", "TraceVerdict", "build_verdicts", "list_verdicts", "read_first",
           "save_verdicts"]

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
    """Rank the window's traces without saving them: `outcomes` are rows of `_outcome_rows.sql`,
    `findings` the run's findings, ranked, with their complete `affected_trace_ids`."""
    findings_json = json.dumps([item.to_json() for item in findings], default=str)
    with duckdb.connect() as connection:
        query = sql_template("runs/_ranked_trace_verdicts.sql") + " ORDER BY rank"
        return _verdicts(connection.execute(query, _ranking_parameters(outcomes, findings_json)))


def save_verdicts(connection: duckdb.DuckDBPyConnection, run_id: str, outcomes: Sequence[Mapping[str, Any]],
                  findings_json: str) -> None:
    """Rank the window's traces and replace the run's verdicts (inside the caller's transaction), in one
    statement; `findings_json` is the run's findings as saved (`Finding.to_json` of each, ranked).
    Ranking 50k traces in Python and handing them over through Arrow cost 1.3 CPU-s of a 1M-span run
    (the first Arrow array built from Python values also imports pandas)."""
    connection.execute(sql_text("runs/delete_trace_verdicts.sql"), {"run_id": run_id})
    if outcomes:
        connection.execute(sql_template("runs/insert_trace_verdicts.sql"),
                           {"run_id": run_id, **_ranking_parameters(outcomes, findings_json)})


def read_first(connection: duckdb.DuckDBPyConnection, run_id: str, limit: int) -> list[TraceVerdict]:
    """The run's first `limit` flagged verdicts (score > 0) in rank order."""
    return _verdicts(connection.execute(sql_text("runs/read_first_verdicts.sql"),
                                        {"run_id": run_id, "row_limit": limit}))


def _ranking_parameters(outcomes: Sequence[Mapping[str, Any]], findings_json: str) -> dict[str, Any]:
    """The parameters of runs/_ranked_trace_verdicts.sql: the outcomes as JSON text (one value, parsed by
    DuckDB: far cheaper than binding 50k rows), the points as lists."""
    return {"outcomes": json.dumps(list(outcomes), default=_json_time), "findings": findings_json,
            "outcome_names": list(OUTCOME_POINTS), "outcome_points": list(OUTCOME_POINTS.values()),
            "severity_names": list(SEVERITY_POINTS), "severity_points": list(SEVERITY_POINTS.values())}


def _json_time(value: object) -> str:
    """A trace's first_seen as DuckDB parses a TIMESTAMP back (naive, microseconds kept)."""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def _verdicts(cursor: duckdb.DuckDBPyConnection) -> list[TraceVerdict]:
    return [
        TraceVerdict(trace_id=trace_id, rank=rank, score=score, outcome=outcome, ended_badly=ended_badly,
                     outcome_span_id=outcome_span_id, finding_keys=tuple(finding_keys), spans=spans,
                     duration_ms=duration_ms, first_seen=first_seen)
        for (trace_id, rank, score, outcome, ended_badly, outcome_span_id, finding_keys, spans, duration_ms,
             first_seen) in cursor.fetchall()
    ]


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
