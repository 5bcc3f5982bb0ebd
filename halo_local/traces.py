"""Looking at what is stored: agents, traces and spans.

Every function opens a short connection, runs one query from `sql/inspect/`, and returns plain
dicts with camelCase keys, which are at once the `--json` documents and what the human renderers
format.
"""

from __future__ import annotations

import difflib
from datetime import datetime, timedelta
from typing import Any

from halo_local.common.rows import json_cell, rows_as_dicts
from halo_local.common.timestamps import utc_now
from halo_local.errors import NotFoundError, UsageError
from halo_local.resources import sql_template, sql_text
from halo_local.sandbox import SpanSandbox
from halo_local.sandbox_text import QueryResult
from halo_local.store import Store

TIME_RANGES: dict[str, timedelta | None] = {
    "1h": timedelta(hours=1),
    "6h": timedelta(hours=6),
    "12h": timedelta(hours=12),
    "1d": timedelta(days=1),
    "3d": timedelta(days=3),
    "7d": timedelta(days=7),
    "14d": timedelta(days=14),
    "30d": timedelta(days=30),
    "90d": timedelta(days=90),
    "all": None,
}
# `halo-local query` prints for a person or a script, not into a prompt: only the row limit should cut.
QUERY_MAX_CHARS = 10_000_000
SPAN_TYPES = ("llm", "tool", "agent", "chain", "retriever", "embedding", "other")
def since_for(time_range: str, now: datetime | None = None, *, flag: str = "--time-range") -> datetime | None:
    """Start of a named time range (`30d`, `all`, ...) counted back from now; None for all.

    `flag` is the option the value came from, for the error message.
    """
    key = str(time_range).strip().lower()
    if key not in TIME_RANGES:
        raise UsageError(f"{flag} must be one of {', '.join(TIME_RANGES)}; got {time_range!r}")
    span = TIME_RANGES[key]
    return None if span is None else (now or utc_now()) - span


def stored_range(store: Store) -> dict[str, Any]:
    """What the database holds at all: span count and first/last span times."""
    with store.connect() as connection:
        ((count, first, last),) = connection.execute(sql_text("inspect/stored_range.sql")).fetchall()
    return {"spanCount": count, "firstSeenAt": json_cell(first), "lastSeenAt": json_cell(last)}


def list_agents(store: Store, *, time_range: str = "30d", now: datetime | None = None) -> list[dict[str, Any]]:
    """Agents with spans in the range: UUID, name, service, traces, spans, errors, first/last seen."""
    since = since_for(time_range, now)
    with store.connect() as connection:
        cursor = connection.execute(sql_text("inspect/agents.sql"), {"since": since})
        return rows_as_dicts(cursor)


def find_agent(store: Store, agent: str) -> dict[str, Any]:
    """An agent by UUID (or unique name); NotFoundError naming the closest known agents (see `resolve_agent`)."""
    return resolve_agent(list_agents(store, time_range="all"), agent)


def resolve_agent(agents: list[dict[str, Any]], agent: str) -> dict[str, Any]:
    """The agent among `agents` with this UUID, else the one with this name.

    A name that several agents share (the same agent name in two services) is a UsageError listing
    them all, since picking one would silently analyse the wrong agent.
    """
    wanted = str(agent).strip()
    for item in agents:
        if item["agentUuid"] == wanted:
            return item
    by_name = [item for item in agents if item["name"] == wanted]
    if len(by_name) == 1:
        return by_name[0]
    if by_name:
        raise UsageError(
            f"agent name {wanted!r} is shared by {len(by_name)} agents: "
            + "; ".join(describe_agent(item) for item in by_name),
            hint="pass the UUID of the one you mean instead of the name",
        )
    raise NotFoundError(f"no agent with UUID {wanted!r}", hint=closest_agents_hint(agents, wanted))


def describe_agent(agent: dict[str, Any]) -> str:
    """`UUID (name, service)`: names alone do not tell agents apart."""
    return f"{agent['agentUuid']} ({agent.get('name') or '-'}, {agent.get('serviceName') or '-'})"


def closest_agents_hint(agents: list[dict[str, Any]], wanted: str) -> str:
    """A hint naming the known agents most like `wanted` (by UUID prefix or name), every namesake included."""
    if not agents:
        return "no traces are loaded yet: run `halo-local traces load PATH` first"
    keys: dict[str, list[dict[str, Any]]] = {}
    for item in agents:
        keys.setdefault(item["agentUuid"], []).append(item)
        if item["name"]:
            keys.setdefault(item["name"], []).append(item)
    close = difflib.get_close_matches(wanted, list(keys), n=3, cutoff=0.3)
    picks = [item for key in close for item in keys[key]] or agents[:3]
    seen: list[str] = []
    for item in picks:
        line = describe_agent(item)
        if line not in seen:
            seen.append(line)
    return "known agents: " + "; ".join(seen) + " — `halo-local agent list --time-range all` lists all"


def list_traces(
    store: Store,
    *,
    agent: str | None = None,
    time_range: str = "30d",
    errors_only: bool = False,
    limit: int = 50,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Traces newest first, one row each with its root, agent, duration, span/error counts, tokens and cost."""
    since = since_for(time_range, now)
    agent_uuid = find_agent(store, agent)["agentUuid"] if agent else None
    with store.connect() as connection:
        cursor = connection.execute(
            sql_template("inspect/traces.sql"),
            {"since": since, "agent_uuid": agent_uuid, "errors_only": bool(errors_only), "row_limit": int(limit)},
        )
        return rows_as_dicts(cursor)


def get_trace(store: Store, trace_id: str) -> dict[str, Any]:
    """One trace: summary plus every span (parents before children), for the tree view."""
    wanted = str(trace_id).strip().lower()
    with store.connect() as connection:
        cursor = connection.execute(sql_text("inspect/trace_spans.sql"), {"trace_id": wanted})
        spans = rows_as_dicts(cursor)
    if not spans:
        raise NotFoundError(f"no trace with id {wanted!r}", hint="`halo-local trace list --time-range all` lists stored traces")
    return {"traceId": wanted, "spanCount": len(spans), "spans": spans}


def list_spans(
    store: Store,
    *,
    trace_id: str | None = None,
    agent: str | None = None,
    span_type: str | None = None,
    name: str | None = None,
    time_range: str = "all",
    errors_only: bool = False,
    limit: int = 100,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Spans newest first, filtered; canonical columns only (use `get_span` for raw attributes)."""
    if span_type is not None and span_type not in SPAN_TYPES:
        raise UsageError(f"--type must be one of {', '.join(SPAN_TYPES)}; got {span_type!r}")
    since = since_for(time_range, now)
    agent_uuid = find_agent(store, agent)["agentUuid"] if agent else None
    with store.connect() as connection:
        cursor = connection.execute(
            sql_text("inspect/spans.sql"),
            {
                "since": since,
                "trace_id": str(trace_id).lower() if trace_id else None,
                "agent_uuid": agent_uuid,
                "span_type": span_type,
                "name": name,
                "errors_only": bool(errors_only),
                "row_limit": int(limit),
            },
        )
        return rows_as_dicts(cursor)


def get_span(store: Store, span_id: str, *, trace_id: str | None = None) -> dict[str, Any]:
    """Every stored column of one span, raw attributes included."""
    wanted = str(span_id).strip().lower()
    in_trace = str(trace_id).strip().lower() if trace_id else None
    with store.connect() as connection:
        cursor = connection.execute(
            sql_text("inspect/span_by_id.sql"),
            {"span_id": wanted},
        )
        anywhere = rows_as_dicts(cursor)
    found = [item for item in anywhere if in_trace is None or item["traceId"] == in_trace]
    if not found and in_trace is not None:
        others = [item["traceId"] for item in anywhere[:5]]
        hint = (f"that span id is stored under trace{'s' if len(others) > 1 else ''} {', '.join(others)}: "
                "pass that --trace-id, or leave it out" if others
                else f"`halo-local span list --trace-id {in_trace}` lists that trace's spans")
        raise NotFoundError(f"no span with id {wanted!r} in trace {in_trace!r}", hint=hint)
    if not found:
        raise NotFoundError(f"no span with id {wanted!r}", hint="`halo-local span list` lists stored spans")
    if len(found) > 1:
        raise UsageError(
            f"span id {wanted!r} occurs in {len(found)} traces",
            hint="add --trace-id to say which: " + ", ".join(item["traceId"] for item in found[:5]),
        )
    return found[0]


def query_spans(store: Store, sql: str, *, max_rows: int = 200, memory_limit: int | None = None) -> QueryResult:
    """Run one read-only SQL statement over the stored spans (the table `spans`), as the LLM's run_sql does.

    It goes through the same sandbox, so the same statements are refused. The sandbox copies every
    stored span into memory first (`SpanSandbox.from_database`): fine at the sizes halo-local handles
    now, but a very large store would want a read-only connection to the file instead.
    """
    with SpanSandbox.from_database(store.db_path, memory_limit=memory_limit) as sandbox:
        return sandbox.query(sql, max_rows=max_rows, max_chars=QUERY_MAX_CHARS)
