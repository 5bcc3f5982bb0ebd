"""How sandbox results read as text, for a model, an MCP client or a terminal.

Values become plain JSON, a cell one line, a result a pipe-separated table within a character
budget, and a trace an indented tree; the sandbox (`sandbox.py`) only fetches the rows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

MAX_CELL_CHARS = 2000


@dataclass(frozen=True)
class QueryResult:
    """Rows of one sandboxed query, already cut to the row and character limits."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    truncated: bool
    text: str

    def to_text(self) -> str:
        """A compact pipe-separated table with a trailer saying how many rows and whether cut."""
        return self.text

    def to_json(self) -> dict[str, Any]:
        return {
            "columns": list(self.columns),
            "rows": [[json_value(value) for value in row] for row in self.rows],
            "truncated": self.truncated,
        }


def json_value(value: Any) -> Any:
    """A DuckDB value as plain JSON (timestamps as ISO text, decimals as floats)."""
    if isinstance(value, datetime):
        return value.isoformat() + ("Z" if value.tzinfo is None else "")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, (list, tuple)):
        return [json_value(item) for item in value]
    if isinstance(value, dict):
        return {str(key): json_value(item) for key, item in value.items()}
    return value


def cell_text(value: Any, limit: int = MAX_CELL_CHARS) -> str:
    """One value on one line: NULL spelled out, newlines escaped, long text cut with a count."""
    if value is None:
        return "NULL"
    if isinstance(value, str):
        text = value
    elif isinstance(value, (list, tuple, dict)):
        text = json.dumps(json_value(value), ensure_ascii=False)
    else:
        text = str(json_value(value))
    text = text.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")
    if len(text) > limit:
        text = f"{text[:limit]}…[+{len(text) - limit} chars]"
    return text


def render_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], *, more_rows: bool,
                 max_chars: int) -> tuple[tuple[tuple[Any, ...], ...], bool, str]:
    """Lay rows out as text within `max_chars`; return the rows that fit, whether cut, and the text."""
    lines = [" | ".join(columns)]
    used = len(lines[0]) + 1
    kept: list[tuple[Any, ...]] = []
    cut_for_size = False
    for row in rows:
        line = " | ".join(cell_text(value) for value in row)
        if used + len(line) + 1 > max_chars - 80:
            cut_for_size = True
            break
        lines.append(line)
        used += len(line) + 1
        kept.append(tuple(row))
    truncated = more_rows or cut_for_size
    if cut_for_size:
        lines.append(f"({len(kept)} rows shown; more were cut to stay under {max_chars} characters)")
    elif more_rows:
        lines.append(f"({len(kept)} rows shown; the query returned more: add LIMIT or aggregate)")
    else:
        lines.append(f"({len(kept)} row{'s' if len(kept) != 1 else ''})")
    return tuple(kept), truncated, "\n".join(lines)


def trace_tree_text(trace_id: str, spans: Sequence[dict[str, Any]], *, max_spans: int, max_chars: int) -> str:
    """The spans of one trace (in `sandbox/trace_tree.sql` order) as an indented tree under a one-line summary."""
    ids = {span["span_id"] for span in spans}
    children: dict[str | None, list[dict[str, Any]]] = {}
    for span in spans:
        parent = span["parent_span_id"] if span["parent_span_id"] in ids else None
        children.setdefault(parent, []).append(span)
    errors = sum(1 for span in spans if span["status_code"] == "error")
    durations = [span["duration_ms"] for span in children.get(None, []) if span["duration_ms"] is not None]
    header = (f"trace {trace_id}: {len(spans)} spans, {errors} errors, "
              f"root duration {_duration(max(durations) if durations else None)}, "
              f"started {json_value(spans[0]['start_time'])}")
    lines = [header]
    shown = 0
    stack: list[tuple[dict[str, Any], int]] = [(span, 0) for span in reversed(children.get(None, []))]
    while stack and shown < max_spans:
        span, depth = stack.pop()
        lines.append("  " * depth + "- " + _span_line(span))
        shown += 1
        stack.extend((child, depth + 1) for child in reversed(children.get(span["span_id"], [])))
    if shown < len(spans):
        lines.append(f"({len(spans) - shown} more spans not shown; query `spans` with this trace_id)")
    text = "\n".join(lines)
    if len(text) > max_chars:
        text = text[:max_chars] + "\n(tree cut to stay under the character limit)"
    return text


def _duration(ms: float | None) -> str:
    if ms is None:
        return "unfinished"
    if ms < 1000:
        return f"{ms:.0f}ms"
    return f"{ms / 1000:.2f}s"


def _span_line(span: dict[str, Any]) -> str:
    parts = [f"{span['name']} [{span['span_type']}]", f"span {span['span_id']}", _duration(span["duration_ms"])]
    parts.append("ERROR" if span["status_code"] == "error" else span["status_code"])
    if span["agent_name"]:
        parts.append(f"agent={span['agent_name']}")
    if span["model"]:
        parts.append(f"model={span['model']}")
    if span["input_tokens"] is not None or span["output_tokens"] is not None:
        tokens = f"tokens={span['input_tokens'] or 0}in/{span['output_tokens'] or 0}out"
        if span["cache_read_tokens"]:
            tokens += f" ({span['cache_read_tokens']} cached)"
        parts.append(tokens)
    if span["cost_usd"] is not None:
        parts.append(f"cost=${float(span['cost_usd']):.6f}")
    if span["tool_name"]:
        parts.append(f"tool={span['tool_name']}")
    if span["finish_reason"]:
        parts.append(f"finish={span['finish_reason']}")
    problem = " ".join(str(part) for part in (span["error_type"], span["error_message"] or span["status_message"]) if part)
    if problem:
        parts.append("error=" + cell_text(problem, limit=300))
    return "  ".join(parts)
