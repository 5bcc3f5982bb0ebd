"""Spans, traces, runs and findings as polars DataFrames, for people who explore in a notebook.

Each function opens a short read of `$HALO_HOME` (or `home`), runs one query from `sql/notebook/`
and hands DuckDB's Arrow result to polars without copying it again:

    import halo_local.notebook as halo
    spans = halo.spans(agent="HaloCodeHelper")
    spans.group_by("tool_name").agg(pl.len(), pl.col("duration_ms").median())
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from halo_local.resources import sql_template
from halo_local.store import Store
from halo_local.traces import list_agents, resolve_agent


def _frame(query_file: str, parameters: dict[str, Any], home: Path | str | None) -> pl.DataFrame:
    with Store(home).connect() as connection:
        frame: pl.DataFrame = connection.sql(sql_template(f"notebook/{query_file}"), params=parameters).pl()
        return frame


def _agent_uuid(agent: str | None, home: Path | str | None) -> str | None:
    """The UUID of the agent named `agent` (a UUID or a name; names two agents share are refused)."""
    if agent is None:
        return None
    return str(resolve_agent(list_agents(Store(home), time_range="all"), agent)["agentUuid"])


def spans(agent: str | None = None, *, since: datetime | None = None, until: datetime | None = None,
          home: Path | str | None = None) -> pl.DataFrame:
    """Every stored span (one row each, all columns of the `spans` table), optionally of one agent and
    started within [since, until) (naive datetimes are UTC)."""
    return _frame("spans.sql", {"agent_uuid": _agent_uuid(agent, home), "since": since, "until": until}, home)


def traces(agent: str | None = None, *, since: datetime | None = None, until: datetime | None = None,
           home: Path | str | None = None) -> pl.DataFrame:
    """One row per trace: start, duration, span, error, model-call and tool-call counts, tokens, cost."""
    return _frame("traces.sql", {"agent_uuid": _agent_uuid(agent, home), "since": since, "until": until}, home)


def runs(agent: str | None = None, *, home: Path | str | None = None) -> pl.DataFrame:
    """One row per run, newest first, with its status, window, snapshot size and finding count."""
    return _frame("runs.sql", {"agent_uuid": _agent_uuid(agent, home)}, home)


def findings(run_id: str | None = None, *, agent: str | None = None,
             home: Path | str | None = None) -> pl.DataFrame:
    """One row per finding of every analysis run (or of `run_id`), ranked as the report ranks them;
    `document` holds the finding's whole JSON (as `run get --json` shows it)."""
    return _frame("findings.sql", {"run_id": run_id, "agent_uuid": _agent_uuid(agent, home)}, home)
