"""Each schedule's last outcome (completed, no_traces, failed, ...; with the count of new high
findings), so a broken nightly schedule shows in `schedule list` and in the tick log."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from halo_local.common.timestamps import iso
from halo_local.resources import sql_text
from halo_local.store import Store


def last_outcomes(store: Store) -> dict[str, dict[str, Any]]:
    """Per schedule id, its latest fire that has ended: `status` (the run's, or `failed` when no run
    could be started), `runId`, `slotAt`, `reason` and `newHigh` (None unless the run completed)."""
    with store.connect() as connection:
        rows = connection.execute(sql_text("schedules/last_outcomes.sql")).fetchall()
    return {schedule_id: {"status": status, "runId": run_id, "slotAt": iso(slot_at), "reason": reason,
                          "newHigh": new_high if status == "completed" else None}
            for schedule_id, slot_at, run_id, status, reason, new_high, _ in rows}


def outcome_text(outcome: Mapping[str, Any] | None) -> str:
    """`completed, 2 new high`, `no_traces`, `failed`; `-` before any fire has ended."""
    if outcome is None:
        return "-"
    high = outcome.get("newHigh")
    status: str = outcome["status"]
    return status + (f", {high} new high" if high else "")
