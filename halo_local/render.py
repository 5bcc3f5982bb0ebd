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


TOOL_TEXT_CHARS = 200


def _cut(text: str, limit: int = TOOL_TEXT_CHARS) -> str:
    """One line of at most `limit` characters, saying how much was left out."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else f"{flat[:limit]}... ({len(flat) - limit:,} more chars)"


def _span_line(span: dict[str, Any], children_cost: float | None = None) -> str:
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
    elif children_cost is not None:
        parts.append(f"cost={usd(children_cost)} (sum of priced children)")
    elif span.get("costSource") == "unpriced":
        parts.append("cost=unpriced")
    if span.get("toolName"):
        parts.append(f"tool={span['toolName']}")
    if span.get("statusCode") == "error":
        message = span.get("errorMessage") or span.get("statusMessage") or span.get("errorType") or ""
        parts.append(f"ERROR {message[:120]}".rstrip())
    parts.append(f"({span['spanId']})")
    return " ".join(parts)


def _tool_lines(span: dict[str, Any]) -> list[str]:
    """A tool call's arguments and result, each cut to one line."""
    return [f"{label}: {_cut(span[key])}" for label, key in (("args", "toolArguments"), ("result", "toolResult"))
            if span.get(key)]


def trace_tree(spans: Sequence[dict[str, Any]], *, errors_only: bool = False) -> str:
    """Indented tree of a trace's spans; spans whose parent is missing are shown as roots.

    Tool calls show their arguments and result (cut); a span without its own cost shows the sum of
    its priced descendants. `errors_only` keeps the failing spans and the path from the root to them.
    """
    ids = {span["spanId"] for span in spans}
    children: dict[str | None, list[dict[str, Any]]] = {}
    for span in spans:
        parent = span.get("parentSpanId")
        children.setdefault(parent if parent in ids else None, []).append(span)
    below_cost: dict[str, float | None] = {}
    failing: dict[str, bool] = {}
    for span in reversed(_in_tree_order(children)):  # children before their parents
        kids = children.get(span["spanId"], [])
        priced = [cost for cost in (_own_or_below(kid, below_cost) for kid in kids) if cost is not None]
        below_cost[span["spanId"]] = sum(priced) if priced else None
        failing[span["spanId"]] = span.get("statusCode") == "error" or any(failing[kid["spanId"]] for kid in kids)
    lines: list[str] = []
    stack = [(span, 0) for span in reversed(children.get(None, []))]
    while stack:
        span, depth = stack.pop()
        if errors_only and not failing[span["spanId"]]:
            continue
        orphan = " (parent not stored)" if depth == 0 and span.get("parentSpanId") else ""
        lines.append("  " * depth + terminal_line(_span_line(span, below_cost[span["spanId"]])) + orphan)
        lines += ["  " * (depth + 2) + terminal_line(line) for line in _tool_lines(span)]
        stack.extend((child, depth + 1) for child in reversed(children.get(span["spanId"], [])))
    if errors_only and not lines:
        return "(no failing spans)"
    return "\n".join(lines)


def _in_tree_order(children: dict[str | None, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Every span reachable from the roots, each parent before its children."""
    ordered: list[dict[str, Any]] = []
    pending = list(children.get(None, []))
    while pending:
        span = pending.pop()
        ordered.append(span)
        pending.extend(children.get(span["spanId"], []))
    return ordered


def _own_or_below(span: dict[str, Any], below_cost: dict[str, float | None]) -> float | None:
    own = span.get("costUsd")
    return float(own) if own is not None else below_cost[span["spanId"]]
