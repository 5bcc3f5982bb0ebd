"""The read side: a run (`RunDocument`, whose `to_json()` is the `run get --json` document), the run
list and a run's timeline.

Every read first reaps the runs whose worker died, so no reader sees a dead run as `running`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from halo_local.common.rows import rows_as_dicts
from halo_local.errors import NotFoundError
from halo_local.flags import parse_int
from halo_local.resources import sql_template, sql_text
from halo_local.runs.rows import JSON_COLUMNS
from halo_local.runs.run_document import RunDocument, RunEvent
from halo_local.runs.worker import reap_stale_runs
from halo_local.store import Store


def get_run(store: Store, run_id: str, *, include_findings: bool = True) -> RunDocument:
    """A run's metadata: status, agent, window, model, options, timings, LLM usage, trace dataset."""
    with store.held_open():
        reap_stale_runs(store)
        with store.connect() as connection:
            cursor = connection.execute(sql_template("runs/run.sql"), {"run_id": str(run_id).strip()})
            rows = rows_as_dicts(cursor, json_columns=JSON_COLUMNS)
    if not rows:
        raise NotFoundError(f"no run with id {str(run_id)!r}", hint="`halo-local run list` lists runs")
    return run_document(rows[0], include_findings=include_findings)


def list_runs(store: Store, *, limit: int = 50, conversation_id: str | None = None,
              schedule_id: str | None = None) -> list[RunDocument]:
    """Runs newest first (without their findings)."""
    with store.held_open():
        reap_stale_runs(store)
        with store.connect() as connection:
            cursor = connection.execute(sql_text("runs/list_runs.sql"), {
                "conversation_id": conversation_id, "schedule_id": schedule_id, "row_limit": int(limit)})
            rows = rows_as_dicts(cursor, json_columns=JSON_COLUMNS)
    return [run_document(row, include_findings=False) for row in rows]


def run_document(row: Mapping[str, Any], *, include_findings: bool) -> RunDocument:
    """The run of one `runs` row read by `rows_as_dicts` (camelCase keys, JSON columns parsed)."""
    return RunDocument.from_row(row, include_findings=include_findings)


def run_events(store: Store, run_id: str, *, limit: int = 100, after_seq: int = 0) -> list[RunEvent]:
    """The run's timeline: its latest `limit` events after `after_seq`, oldest first."""
    parse_int(limit, "--limit", 1, None)
    get_run(store, run_id, include_findings=False)
    with store.connect() as connection:
        cursor = connection.execute(sql_text("runs/events.sql"), {
            "run_id": str(run_id).strip(), "after_seq": int(after_seq), "row_limit": int(limit)})
        return [RunEvent.from_row(row) for row in rows_as_dicts(cursor, json_columns=JSON_COLUMNS)]
