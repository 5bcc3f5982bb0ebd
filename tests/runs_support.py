"""Helpers shared by the runs, report, CLI-runs and schedule CLI tests: a `spans` row factory, small
waits and a stand-in terminal."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from halo_local import runs
from halo_local.store import Store

AGENT_UUID = "0b6a3c36-5b1e-5d2f-9a43-3f5c6f0a1d11"
OTHER_AGENT_UUID = "7d1e2f40-1c3b-5a6d-8e9f-0a1b2c3d4e5f"
BASE = datetime(2026, 4, 24, 18, 0, 0)
WINDOW = ("2026-04-24T17:00:00Z", "2026-04-24T19:00:00Z")
HALO_FIXTURE = Path(__file__).parent / "fixtures" / "halo" / "realistic_traces.jsonl"
HALO_WINDOW = ("2026-04-24T00:00:00Z", "2026-04-25T00:00:00Z")
_EPOCH = datetime(1970, 1, 1)


def span(trace: int, index: int, *, start: datetime, seconds: float = 1.0, parent: int | None = None,
         span_type: str = "agent", name: str | None = None, status: str = "ok", agent_uuid: str = AGENT_UUID,
         agent_name: str = "Helper", **columns: Any) -> dict[str, Any]:
    """One `spans` row with sensible defaults; ids derive from (trace, index)."""
    start_ns = int((start - _EPOCH).total_seconds() * 1_000_000) * 1000
    end = start + timedelta(seconds=seconds)
    row = {
        "trace_id": f"{trace:032x}", "span_id": f"{trace:04x}{index:012x}",
        "parent_span_id": None if parent is None else f"{trace:04x}{parent:012x}",
        "name": name or span_type, "kind": "internal", "start_ns": start_ns,
        "end_ns": start_ns + int(seconds * 1e9), "start_time": start, "end_time": end,
        "duration_ms": seconds * 1000, "status_code": status, "service_name": "helper-service",
        "agent_name": agent_name, "agent_uuid": agent_uuid, "span_type": span_type,
    }
    row.update(columns)
    return row


def agent_traces(count: int = 5, *, agent_uuid: str = AGENT_UUID, first: int = 0, start: datetime = BASE,
                 failing: Callable[[int], bool] = lambda trace: trace % 2 == 0) -> list[dict[str, Any]]:
    """`count` traces of 4 spans (agent → llm, tool, llm); the tool fails in the traces `failing` picks."""
    rows = []
    for trace in range(first, first + count):
        begin = start + timedelta(minutes=trace - first)
        fails = failing(trace)
        rows += [
            span(trace, 0, start=begin, seconds=4.0, agent_uuid=agent_uuid),
            span(trace, 1, start=begin, seconds=1.0, parent=0, span_type="llm", name="chat gpt-4o",
                 agent_uuid=agent_uuid, model="gpt-4o", provider="openai", input_tokens=1000, output_tokens=50,
                 cost_usd=0.003, cost_source="computed", output_text="calling list_files"),
            span(trace, 2, start=begin + timedelta(seconds=1), seconds=2.0, parent=0, span_type="tool",
                 name="function.list_files", agent_uuid=agent_uuid, tool_name="list_files",
                 tool_arguments='{"subdir": "./missing"}', status="error" if fails else "ok",
                 error_type="FileNotFoundError" if fails else None,
                 error_message="No such file or directory: './missing'" if fails else None),
            span(trace, 3, start=begin + timedelta(seconds=3), seconds=1.0, parent=0, span_type="llm",
                 name="chat gpt-4o", agent_uuid=agent_uuid, model="gpt-4o", provider="openai", input_tokens=1200,
                 output_tokens=80, cost_usd=0.004, cost_source="computed", output_text="done"),
        ]
    return rows


def insert_spans(store: Store, rows: Iterable[Mapping[str, Any]]) -> None:
    """Insert rows into `spans` (column names from the dicts, values as parameters)."""
    with store.transaction() as connection:
        for row in rows:
            names = list(row)
            connection.execute(
                f"INSERT INTO spans ({', '.join(names)}) VALUES ({', '.join('$' + name for name in names)})",
                dict(row),
            )


@dataclass(frozen=True)
class AnalysedHome:
    """A HALO_HOME with one finished run: the run's document and the event kinds it reported as it ran."""

    home: Path
    run: dict[str, Any]
    seen: list[str]


def create_run(store: Store, **options: Any) -> dict[str, Any]:
    """`runs.create_run` for AGENT_UUID over WINDOW, waiting for the run to end unless `options` say otherwise."""
    values: dict[str, Any] = {"agent_uuid": AGENT_UUID, "window_start_at": WINDOW[0], "window_end_at": WINDOW[1],
                              "wait": True}
    values.update(options)
    return runs.create_run(store, **values).to_json()


def wait_until(condition: Callable[[], bool], *, timeout: float = 600.0, step: float = 0.05) -> None:
    """Poll `condition` until it holds (for real processes and threads, where no fake clock can help);
    `timeout` only guards against a hang, so it is long enough for a machine under heavy load."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met within the timeout")
        time.sleep(step)


class Terminal:
    """A stdin that is a terminal and answers with `text` (for commands that ask before acting)."""

    def __init__(self, text: str) -> None:
        self.lines = iter(text.splitlines(keepends=True))

    def isatty(self) -> bool:
        return True

    def readline(self) -> str:
        return next(self.lines, "")
