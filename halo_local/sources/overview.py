"""The window-wide overview a report shows: the document ClickHouseSource.overview returns, over the local store.

Both sources count every span of the agent's window (not the capped snapshot), so a report says the
same numbers whichever source the spans were read from: totals (traces, spans, errors, usage, cost,
exact trace latency percentiles), calls, tokens and cost per model, tool calls, failures and latency
per tool, failing spans per subject. Costs stay exact decimals here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import duckdb

from halo_local.resources import sql_template

OVERVIEW_ROW_LIMIT = 50
# The overview's sections and their columns, in the order both sources return them.
OVERVIEW_SECTIONS = {
    "models": ("model", "provider", "calls", "input_tokens", "output_tokens", "cache_read_tokens", "cost_usd",
               "unpriced_calls"),
    "tools": ("tool", "calls", "traces", "errors", "p50_ms", "p95_ms"),
    "failures": ("subject", "span_type", "spans", "traces"),
}


def local_overview(connection: duckdb.DuckDBPyConnection, *, agent_uuid: str, window_start: datetime,
                   window_end: datetime) -> dict[str, Any]:
    """The overview of `agent_uuid`'s stored spans in [window_start, window_end)."""
    window = {"agent_uuid": agent_uuid, "window_start": window_start, "window_end": window_end}
    totals = _named_rows(connection, "overview/totals.sql", window)[0]
    totals["first_span_at"] = iso_from_ns(totals.pop("first_start_ns"))
    totals["last_span_at"] = iso_from_ns(totals.pop("last_end_ns"))
    sections = {section: _named_rows(connection, f"overview/{section}.sql", {**window, "row_limit": OVERVIEW_ROW_LIMIT})
                for section in OVERVIEW_SECTIONS}
    return {"totals": totals, **sections}


def iso_from_ns(value: int | None) -> str | None:
    """Epoch nanoseconds as a stored timestamp's ISO form (microseconds, `Z`)."""
    if value is None:
        return None
    return (datetime(1970, 1, 1) + timedelta(microseconds=value // 1000)).isoformat() + "Z"


def _named_rows(connection: duckdb.DuckDBPyConnection, template: str, parameters: dict[str, Any]) -> list[dict[str, Any]]:
    cursor = connection.execute(sql_template(template, relation="spans", windowed=True), parameters)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
