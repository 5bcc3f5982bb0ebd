"""Spans-shaped tables built in tests: the heuristics tests construct small windows with these."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import duckdb

from halo_local.heuristics import Finding, find_findings
from halo_local.resources import sql_text

AGENT = "agent-under-test"
OTHER_AGENT = "another-agent"
EPOCH = datetime(2026, 1, 1)
SPAN_COLUMNS = (
    "trace_id", "span_id", "parent_span_id", "name", "kind", "start_ns", "end_ns", "start_time", "end_time",
    "duration_ms", "status_code", "status_message", "agent_uuid", "span_type", "model", "input_tokens",
    "output_tokens", "counts_usage", "cost_usd", "cost_source", "tool_name", "tool_arguments", "tool_result",
    "declared_tools", "finish_reason", "error_type", "error_message", "input_text", "output_text", "agent_name",
    "attributes",
)


@dataclass
class Spans:
    """A spans-shaped table filled with defaults: each call adds one span and returns its id."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def add(self, trace: str, name: str, *, type: str = "other", parent: str | None = None,
            start: float = 0.0, duration: float | None = 100.0, status: str = "unset",
            agent: str = AGENT, **columns: Any) -> str:
        span_id = f"{next(self.ids):016x}"
        start_ns = int((EPOCH - datetime(1970, 1, 1)).total_seconds() * 1e9) + int(start * 1e6)
        end_ns = None if duration is None else start_ns + int(duration * 1e6)
        row = {
            "trace_id": trace, "span_id": span_id, "parent_span_id": parent, "name": name, "kind": "internal",
            "start_ns": start_ns, "end_ns": end_ns,
            "start_time": EPOCH + timedelta(milliseconds=start),
            "end_time": None if duration is None else EPOCH + timedelta(milliseconds=start + duration),
            "duration_ms": duration, "status_code": status, "agent_uuid": agent, "span_type": type,
            "counts_usage": True,
        }
        row.update(columns)
        self.rows.append(row)
        return span_id

    def llm(self, trace: str, *, model: str = "gpt-4o", parent: str | None = None, start: float = 0.0,
            duration: float = 1000.0, input_tokens: int | None = 100, output_tokens: int | None = 20,
            cost: float | None = 0.001, **columns: Any) -> str:
        columns.setdefault("cost_source", "computed" if cost is not None else ("unpriced" if input_tokens else None))
        return self.add(trace, f"chat {model}", type="llm", parent=parent, start=start, duration=duration,
                        model=model, input_tokens=input_tokens, output_tokens=output_tokens, cost_usd=cost,
                        **columns)

    def tool(self, trace: str, tool: str, *, parent: str | None = None, start: float = 0.0,
             duration: float = 100.0, **columns: Any) -> str:
        return self.add(trace, f"execute_tool {tool}", type="tool", parent=parent, start=start,
                        duration=duration, tool_name=tool, **columns)

    def agent(self, trace: str, *, start: float = 0.0, duration: float = 10_000.0, **columns: Any) -> str:
        return self.add(trace, "invoke_agent helper", type="agent", start=start, duration=duration, **columns)

    def connect(self) -> duckdb.DuckDBPyConnection:
        """A fresh in-memory database holding these spans as table `spans`."""
        connection = duckdb.connect()
        connection.execute(sql_text("schema/001_spans.sql"))
        self._fill(connection)
        return connection

    def _fill(self, connection: duckdb.DuckDBPyConnection) -> None:
        if self.rows:  # one INSERT of every row: executemany costs ~2 ms of CPU a row, most of a small window's set-up
            values = "(" + ", ".join("?" for _ in SPAN_COLUMNS) + ")"
            connection.execute(
                f"INSERT INTO spans ({', '.join(SPAN_COLUMNS)}) VALUES {', '.join(values for _ in self.rows)}",
                [row.get(column) for row in self.rows for column in SPAN_COLUMNS],
            )

    def findings(self, **options: Any) -> list[Finding]:
        """The detectors' findings over these spans, on this test process's analysis connection: it keeps the
        detectors' macros from one analysis to the next, as a connection analysing window after window does
        (creating them costs ~0.09 CPU-s of a small window's ~0.23); each analysis leaves no table behind."""
        connection = _analysis_connection()
        try:
            self._fill(connection)
            return find_findings(connection, agent_uuid=AGENT, table="spans", **options)
        except BaseException:
            _ANALYSIS_CONNECTIONS.pop().close()  # whatever state the failure left, the next test starts clean
            raise
        finally:
            if _ANALYSIS_CONNECTIONS:
                connection.execute("DELETE FROM spans")


_ANALYSIS_CONNECTIONS: list[duckdb.DuckDBPyConnection] = []


def _analysis_connection() -> duckdb.DuckDBPyConnection:
    if not _ANALYSIS_CONNECTIONS:
        connection = duckdb.connect()
        connection.execute(sql_text("schema/001_spans.sql"))
        _ANALYSIS_CONNECTIONS.append(connection)
    return _ANALYSIS_CONNECTIONS[0]


def of(findings: list[Finding], category: str) -> list[Finding]:
    return [item for item in findings if item.category == category]


def healthy_trace(spans: Spans, trace: str, *, start: float = 0.0, tools: tuple[str, ...] = ("search",),
                  model: str = "gpt-4o", cost: float = 0.001) -> str:
    """An ordinary trace: agent → model call → tool call(s) → model call, all fine."""
    root = spans.agent(trace, start=start, duration=3000)
    spans.llm(trace, parent=root, start=start + 10, duration=800, model=model, cost=cost,
              finish_reason="tool_calls", declared_tools=list(tools))
    for index, name in enumerate(tools):
        spans.tool(trace, name, parent=root, start=start + 900 + index * 150, duration=100,
                   tool_arguments=json.dumps({"q": f"{trace}-{index}"}), tool_result="ok: 3 results")
    spans.llm(trace, parent=root, start=start + 1500, duration=900, model=model, cost=cost,
              finish_reason="stop", output_text=f"Here is the answer for {trace}.", declared_tools=list(tools))
    return root
