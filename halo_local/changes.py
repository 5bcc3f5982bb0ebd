"""What changed since the last run: a run's findings against those of the previous completed analysis
run of the same agent, matched by their stable ids (`Finding.key`): new, still open (with the trend
of its key figure), gone. A scheduled analysis is only useful if it says what is new since the last one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import duckdb

from halo_local.common.timestamps import iso
from halo_local.resources import sql_text

__all__ = ["compare", "previous_run", "save_changes", "summary_line"]

_SHOWN = ("key", "title", "severity", "category", "subject", "metric")


def _iso(value: datetime | str | None) -> str | None:
    """A run's window bound as ISO text; it may already be text (a run document)."""
    return value if isinstance(value, str) else iso(value)


def _trend(previous: float | None, current: float | None) -> str:
    """`rising`, `falling` or `steady` for the key figure; `unknown` when either side is unmeasured."""
    if previous is None or current is None:
        return "unknown"
    if abs(current - previous) <= 1e-9 * max(abs(current), abs(previous), 1.0):
        return "steady"
    return "rising" if current > previous else "falling"


def compare(current: Sequence[Mapping[str, Any]], previous: Mapping[str, Any] | None) -> dict[str, Any]:
    """The comparison document (camelCase, as `run get --json` carries it under `changes`).

    `current`: this run's findings (`Finding.to_json()`), ranked; `previous`: the previous completed run
    (`previous_run`) or None, when every finding is new and nothing can be gone.
    """
    before = list(previous["findings"]) if previous is not None else []
    before_by_key = {item["key"]: item for item in before}
    current_keys = {item["key"] for item in current}
    new, still_open = [], []
    for item in current:
        shown = {name: item.get(name) for name in _SHOWN} | {"value": item.get("value"),
                                                             "affectedTraces": item.get("affectedTraces")}
        earlier = before_by_key.get(item["key"])
        if earlier is None:
            new.append(shown)
            continue
        still_open.append(shown | {
            "previousValue": earlier.get("value"), "previousAffectedTraces": earlier.get("affectedTraces"),
            "previousSeverity": earlier.get("severity"), "trend": _trend(earlier.get("value"), item.get("value")),
        })
    gone = [{name: item.get(name) for name in _SHOWN} | {"previousValue": item.get("value"),
                                                         "previousAffectedTraces": item.get("affectedTraces")}
            for item in before if item["key"] not in current_keys]
    return {
        "previousRunId": previous["runId"] if previous is not None else None,
        "previousWindowStart": _iso(previous["windowStart"]) if previous is not None else None,
        "previousWindowEnd": _iso(previous["windowEnd"]) if previous is not None else None,
        "new": new, "stillOpen": still_open, "gone": gone,
        "newHigh": sum(1 for item in new if item["severity"] == "high"),
    }


def previous_run(connection: duckdb.DuckDBPyConnection, *, run_id: str, agent_uuid: str,
                 created_at: datetime) -> dict[str, Any] | None:
    """The latest completed analysis run of the agent created before `run_id`, with its findings."""
    rows = connection.execute(sql_text("changes/previous_run.sql"), {
        "run_id": run_id, "agent_uuid": agent_uuid, "created_at": created_at}).fetchall()
    if not rows:
        return None
    found_id, findings, start, end = rows[0]
    return {"runId": found_id, "findings": json.loads(findings) if findings else [], "windowStart": start,
            "windowEnd": end}


def save_changes(connection: duckdb.DuckDBPyConnection, run_id: str, changes: Mapping[str, Any]) -> None:
    connection.execute(sql_text("changes/save_changes.sql"), {"run_id": run_id, "changes": json.dumps(changes)})


def summary_line(changes: Mapping[str, Any] | None) -> str:
    """`2 new (1 high), 1 still open, 1 gone since run_…`: one line for `schedule list` and the tick log."""
    if not changes:
        return "-"
    if changes.get("previousRunId") is None:
        return f"{len(changes['new'])} new (first run)"
    high = f" ({changes['newHigh']} high)" if changes.get("newHigh") else ""
    return (f"{len(changes['new'])} new{high}, {len(changes['stillOpen'])} still open, {len(changes['gone'])} gone"
            f" since {changes['previousRunId']}")
