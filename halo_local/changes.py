"""What changed since the last run: a run's findings against those of the previous completed analysis
run of the same agent, matched by their stable ids (`Finding.key`): new, still open (with the trend
of its key figure), gone. A scheduled analysis is only useful if it says what is new since the last one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from halo_local.common.timestamps import iso
from halo_local.heuristics import Finding
from halo_local.resources import sql_text

__all__ = ["ChangedFinding", "Changes", "PreviousRun", "compare", "previous_run", "save_changes", "summary_line"]


@dataclass(frozen=True)
class PreviousRun:
    """The run a new analysis is compared with, and the findings it reported (ranked), without their
    trace lists (`affected_trace_ids` empty; `affected_traces` counts them)."""

    run_id: str
    window_start: datetime
    window_end: datetime
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class ChangedFinding:
    """One finding of the comparison. `status`: `new` (only this run has it), `still_open` (both runs),
    `gone` (only the previous run had it: its identity and `previous_*` figures are the previous run's,
    and it has no current `value` or `affected_traces`)."""

    status: str
    key: str
    title: str
    severity: str
    category: str
    subject: str | None
    metric: str
    value: float | None = None
    affected_traces: int | None = None
    previous_value: float | None = None
    previous_affected_traces: int | None = None
    previous_severity: str | None = None
    trend: str | None = None  # still open only: rising | falling | steady | unknown

    def to_json(self) -> dict[str, Any]:
        """As `run get --json` carries it: the same keys in the same order as ever, per status."""
        shown: dict[str, Any] = {"key": self.key, "title": self.title, "severity": self.severity,
                                 "category": self.category, "subject": self.subject, "metric": self.metric}
        previous = {"previousValue": self.previous_value, "previousAffectedTraces": self.previous_affected_traces}
        if self.status == "gone":
            return shown | previous
        shown |= {"value": self.value, "affectedTraces": self.affected_traces}
        if self.status == "new":
            return shown
        return shown | previous | {"previousSeverity": self.previous_severity, "trend": self.trend}

    @classmethod
    def from_json(cls, status: str, data: Mapping[str, Any]) -> ChangedFinding:
        return cls(status=status, key=data["key"], title=data["title"], severity=data["severity"],
                   category=data["category"], subject=data.get("subject"), metric=data["metric"],
                   value=data.get("value"), affected_traces=data.get("affectedTraces"),
                   previous_value=data.get("previousValue"),
                   previous_affected_traces=data.get("previousAffectedTraces"),
                   previous_severity=data.get("previousSeverity"), trend=data.get("trend"))


@dataclass(frozen=True)
class Changes:
    """The comparison with the previous completed run; `previous_*` are None when there was none (then
    every finding is new and nothing can be gone)."""

    previous_run_id: str | None
    previous_window_start: datetime | None
    previous_window_end: datetime | None
    new: tuple[ChangedFinding, ...]
    still_open: tuple[ChangedFinding, ...]
    gone: tuple[ChangedFinding, ...]

    @property
    def new_high(self) -> int:
        return sum(1 for item in self.new if item.severity == "high")

    def to_json(self) -> dict[str, Any]:
        """The comparison document (camelCase, as `run get --json` carries it under `changes`)."""
        return {
            "previousRunId": self.previous_run_id,
            "previousWindowStart": iso(self.previous_window_start),
            "previousWindowEnd": iso(self.previous_window_end),
            "new": [item.to_json() for item in self.new],
            "stillOpen": [item.to_json() for item in self.still_open],
            "gone": [item.to_json() for item in self.gone],
            "newHigh": self.new_high,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Changes:
        """A stored comparison (`to_json()`'s document) read back."""
        return cls(
            previous_run_id=data.get("previousRunId"),
            previous_window_start=_parse_iso(data.get("previousWindowStart")),
            previous_window_end=_parse_iso(data.get("previousWindowEnd")),
            new=tuple(ChangedFinding.from_json("new", item) for item in data.get("new") or ()),
            still_open=tuple(ChangedFinding.from_json("still_open", item) for item in data.get("stillOpen") or ()),
            gone=tuple(ChangedFinding.from_json("gone", item) for item in data.get("gone") or ()),
        )


def _parse_iso(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.removesuffix("Z"))


def _trend(previous: float | None, current: float | None) -> str:
    """`rising`, `falling` or `steady` for the key figure; `unknown` when either side is unmeasured."""
    if previous is None or current is None:
        return "unknown"
    if abs(current - previous) <= 1e-9 * max(abs(current), abs(previous), 1.0):
        return "steady"
    return "rising" if current > previous else "falling"


def _changed(status: str, finding: Finding, *, current: Finding | None = None,
             previous: Finding | None = None) -> ChangedFinding:
    """`finding` as the comparison shows it, with this run's figures (`current`) and the previous run's."""
    return ChangedFinding(
        status=status, key=finding.key, title=finding.title, severity=finding.severity, category=finding.category,
        subject=finding.subject, metric=finding.metric,
        value=current.value if current else None, affected_traces=current.affected_traces if current else None,
        previous_value=previous.value if previous else None,
        previous_affected_traces=previous.affected_traces if previous else None,
        previous_severity=previous.severity if previous else None,
        trend=_trend(previous.value, current.value) if current and previous else None)


def compare(current: Sequence[Finding], previous: PreviousRun | None) -> Changes:
    """This run's findings (ranked) against the previous completed run's (`previous_run`), or None."""
    before = list(previous.findings) if previous is not None else []
    before_by_key = {item.key: item for item in before}
    current_keys = {item.key for item in current}
    new, still_open = [], []
    for item in current:
        earlier = before_by_key.get(item.key)
        if earlier is None:
            new.append(_changed("new", item, current=item))
            continue
        still_open.append(_changed("still_open", item, current=item, previous=earlier))
    gone = [_changed("gone", item, previous=item) for item in before if item.key not in current_keys]
    return Changes(
        previous_run_id=previous.run_id if previous is not None else None,
        previous_window_start=previous.window_start if previous is not None else None,
        previous_window_end=previous.window_end if previous is not None else None,
        new=tuple(new), still_open=tuple(still_open), gone=tuple(gone),
    )


def previous_run(connection: duckdb.DuckDBPyConnection, *, run_id: str, agent_uuid: str,
                 created_at: datetime) -> PreviousRun | None:
    """The latest completed analysis run of the agent created before `run_id`, with its findings (as
    `PreviousRun` has them)."""
    rows = connection.execute(sql_text("changes/previous_run.sql"), {
        "run_id": run_id, "agent_uuid": agent_uuid, "created_at": created_at}).fetchall()
    if not rows:
        return None
    found_id, findings, start, end = rows[0]
    stored = json.loads(findings) if findings else []
    return PreviousRun(run_id=found_id, window_start=start, window_end=end,
                       findings=tuple(Finding.from_json(item) for item in stored))


def save_changes(connection: duckdb.DuckDBPyConnection, run_id: str, changes: Changes) -> None:
    connection.execute(sql_text("changes/save_changes.sql"),
                       {"run_id": run_id, "changes": json.dumps(changes.to_json())})


def summary_line(changes: Changes | None) -> str:
    """`2 new (1 high), 1 still open, 1 gone since run_…`: one line for `schedule list` and the tick log."""
    if changes is None:
        return "-"
    if changes.previous_run_id is None:
        return f"{len(changes.new)} new (first run)"
    high = f" ({changes.new_high} high)" if changes.new_high else ""
    return (f"{len(changes.new)} new{high}, {len(changes.still_open)} still open, {len(changes.gone)} gone"
            f" since {changes.previous_run_id}")
