"""Human-readable text for the CLI: aligned tables, trace trees, durations, money.

Only the CLI's text mode uses this; `--json` prints the API's dicts as they are. Values come from
traces, so every cell and tree line shows control characters escaped (`untrusted.terminal_line`):
a span name cannot drive the terminal, nor break a table row in two.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from halo_local.untrusted import terminal_line, terminal_text

Column = tuple[str, str] | tuple[str, str, Callable[[Any], str]]


def duration(ms: float | None) -> str:
    if ms is None:
        return "-"
    if ms < 1000:
        return f"{ms:.0f}ms"
    if ms < 60_000:
        return f"{ms / 1000:.2f}s"
    return f"{ms / 60_000:.1f}m"


def usd(value: float | None) -> str:
    if value is None:
        return "-"
    if value == 0:
        return "$0"
    if value < 0.01:
        return f"${value:.6f}"
    return f"${value:,.4f}"


def count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def timestamp(value: str | None) -> str:
    """ISO text from the API, shortened to seconds for tables."""
    if not value:
        return "-"
    return value.replace("T", " ")[:19]


def table(rows: Sequence[dict[str, Any]], columns: Sequence[Column], *, empty: str = "(none)") -> str:
    """Rows as a left-aligned text table with a header; `empty` when there are no rows."""
    if not rows:
        return empty
    headers = [column[1] for column in columns]
    cells = []
    for row in rows:
        line = []
        for column in columns:
            value = row.get(column[0])
            formatter = column[2] if len(column) > 2 else None
            line.append(terminal_line(formatter(value) if formatter else ("-" if value is None else value)))
        cells.append(line)
    widths = [max(len(headers[i]), *(len(line[i]) for line in cells)) for i in range(len(headers))]
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    out += ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in cells]
    return "\n".join(out)


def key_values(pairs: Sequence[tuple[str, Any]]) -> str:
    """`label: value` lines with the labels aligned; a multi-line value (a prompt, an output) keeps its lines."""
    width = max(len(label) for label, _ in pairs)
    return "\n".join(f"{label.ljust(width)}  {'-' if value is None else terminal_text(value)}" for label, value in pairs)


def _span_line(span: dict[str, Any]) -> str:
    parts = [f"{span['name']}", f"[{span['spanType']}]", duration(span.get("durationMs"))]
    if span.get("model"):
        parts.append(f"model={span['model']}")
    if span.get("inputTokens") is not None or span.get("outputTokens") is not None:
        tokens = f"tokens={count(span.get('inputTokens'))}/{count(span.get('outputTokens'))}"
        if span.get("countsUsage") is False:
            tokens += " (aggregate)"
        parts.append(tokens)
    if span.get("costUsd") is not None:
        parts.append(f"cost={usd(span['costUsd'])}")
    elif span.get("costSource") == "unpriced":
        parts.append("cost=unpriced")
    if span.get("toolName"):
        parts.append(f"tool={span['toolName']}")
    if span.get("statusCode") == "error":
        message = span.get("errorMessage") or span.get("statusMessage") or span.get("errorType") or ""
        parts.append(f"ERROR {message[:120]}".rstrip())
    parts.append(f"({span['spanId']})")
    return " ".join(parts)


def trace_tree(spans: Sequence[dict[str, Any]]) -> str:
    """Indented tree of a trace's spans; spans whose parent is missing are shown as roots."""
    ids = {span["spanId"] for span in spans}
    children: dict[str | None, list[dict[str, Any]]] = {}
    for span in spans:
        parent = span.get("parentSpanId")
        children.setdefault(parent if parent in ids else None, []).append(span)
    lines: list[str] = []
    stack = [(span, 0) for span in reversed(children.get(None, []))]
    while stack:
        span, depth = stack.pop()
        orphan = " (parent not stored)" if depth == 0 and span.get("parentSpanId") else ""
        lines.append("  " * depth + terminal_line(_span_line(span)) + orphan)
        stack.extend((child, depth + 1) for child in reversed(children.get(span["spanId"], [])))
    return "\n".join(lines)
