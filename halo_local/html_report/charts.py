"""SVG geometry for report.html: numbers in, shapes out (rectangles, marks, labels in viewBox units).

The template draws these shapes as inline SVG, so the page needs no script, no chart library and no
network; every label is plain text the template escapes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from halo_local import render

CHART_WIDTH = 640
LABEL_WIDTH = 200  # room for a subject or trace name left of horizontal bars
ROW_HEIGHT = 18


@dataclass(frozen=True)
class Bar:
    """One rectangle; `title` is its tooltip (SVG <title>), `css` its class (type, status, failing)."""

    x: float
    y: float
    width: float
    height: float
    title: str
    css: str = "bar"


@dataclass(frozen=True)
class Mark:
    """A vertical line across a chart at `x` (p50, p95) with its label."""

    x: float
    label: str
    css: str


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    anchor: str = "start"
    css: str = "label"


@dataclass
class Chart:
    """Everything one <svg> holds. `marks_drawn` counts the shapes that carry data (the browser test
    asserts they are there)."""

    width: float
    height: float
    bars: list[Bar] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)

    @property
    def marks_drawn(self) -> int:
        return len(self.bars) + len(self.marks)


def _log_position(value: float, low: float, high: float, width: float) -> float:
    """Where `value` falls on a log axis from `low` to `high` that is `width` wide."""
    if high <= low:
        return width / 2
    fraction = (math.log(max(value, low)) - math.log(low)) / (math.log(high) - math.log(low))
    return min(width, max(0.0, fraction * width))


def latency_histogram(counts: Sequence[int], *, low_ms: float, high_ms: float, p50_ms: float,
                      p95_ms: float) -> Chart:
    """Span durations in log-scale bins from `low_ms` to `high_ms`, with p50 and p95 drawn as lines."""
    plot_height, top, bottom = 90.0, 28.0, 18.0
    chart = Chart(CHART_WIDTH, top + plot_height + bottom)
    bins = max(1, len(counts))
    bin_width = CHART_WIDTH / bins
    tallest = max(counts, default=0) or 1
    for index, spans in enumerate(counts):
        if spans == 0:
            continue
        height = max(1.0, spans / tallest * plot_height)
        edge_low = low_ms * (high_ms / low_ms) ** (index / bins) if high_ms > low_ms else low_ms
        edge_high = low_ms * (high_ms / low_ms) ** ((index + 1) / bins) if high_ms > low_ms else high_ms
        chart.bars.append(Bar(index * bin_width + 1, top + plot_height - height, bin_width - 2, height,
                              f"{spans:,} spans between {render.duration(edge_low)} and {render.duration(edge_high)}"))
    for value, name in ((p50_ms, "p50"), (p95_ms, "p95")):
        chart.marks.append(Mark(_log_position(value, low_ms, high_ms, CHART_WIDTH), f"{name} {render.duration(value)}",
                                name))
    chart.labels += [Label(0, chart.height - 4, render.duration(low_ms)),
                     Label(CHART_WIDTH, chart.height - 4, render.duration(high_ms), anchor="end")]
    return chart


def horizontal_bars(rows: Sequence[tuple[str, float, str]], *, css: str = "bar") -> Chart:
    """One bar per (label, value, shown value), longest first as given, scaled to the largest value."""
    plot_width = CHART_WIDTH - LABEL_WIDTH - 90
    chart = Chart(CHART_WIDTH, max(1, len(rows)) * ROW_HEIGHT + 4)
    largest = max((value for _, value, _ in rows), default=0) or 1
    for index, (label, value, shown) in enumerate(rows):
        y = index * ROW_HEIGHT + 2
        width = max(1.0, value / largest * plot_width)
        chart.bars.append(Bar(LABEL_WIDTH, y, width, ROW_HEIGHT - 4, f"{label}: {shown}", css))
        chart.labels.append(Label(LABEL_WIDTH - 6, y + ROW_HEIGHT - 6, _cut(label, 30), anchor="end"))
        chart.labels.append(Label(LABEL_WIDTH + width + 4, y + ROW_HEIGHT - 6, shown))
    return chart


def failures_over_time(series: Sequence[tuple[str, Sequence[int]]], *, window_start: str, window_end: str,
                       bucket_label: str) -> Chart:
    """One row of columns per failing subject over the window's time slices, all on one scale."""
    row_height, plot_width = 34.0, CHART_WIDTH - LABEL_WIDTH
    chart = Chart(CHART_WIDTH, max(1, len(series)) * row_height + 18)
    tallest = max((count for _, counts in series for count in counts), default=0) or 1
    for row, (subject, counts) in enumerate(series):
        base = (row + 1) * row_height
        column_width = plot_width / max(1, len(counts))
        chart.labels.append(Label(LABEL_WIDTH - 6, base - 4, _cut(subject, 30), anchor="end"))
        for index, failures in enumerate(counts):
            if failures == 0:
                continue
            height = max(1.0, failures / tallest * (row_height - 6))
            chart.bars.append(Bar(LABEL_WIDTH + index * column_width, base - height, max(1.0, column_width - 1), height,
                                  f"{subject}: {failures:,} failures in {bucket_label} {index + 1}", "failure"))
    chart.labels += [Label(LABEL_WIDTH, chart.height - 4, render.timestamp(window_start)),
                     Label(CHART_WIDTH, chart.height - 4, render.timestamp(window_end), anchor="end")]
    return chart


@dataclass(frozen=True)
class WaterfallSpan:
    """A span as the waterfall draws it: `depth` in the span tree, `failing` when a finding points at it."""

    span_id: str
    name: str
    span_type: str
    status: str
    offset_ms: float
    duration_ms: float
    depth: int
    failing: bool
    error: str


def waterfall(spans: Sequence[WaterfallSpan]) -> Chart:
    """A Gantt of one trace: a row per span, its bar from start offset for its duration, indented label."""
    plot_width = CHART_WIDTH - LABEL_WIDTH
    chart = Chart(CHART_WIDTH, max(1, len(spans)) * ROW_HEIGHT + 20)
    end = max((item.offset_ms + item.duration_ms for item in spans), default=0) or 1
    for index, item in enumerate(spans):
        y = index * ROW_HEIGHT + 2
        x = LABEL_WIDTH + item.offset_ms / end * plot_width
        width = max(1.5, item.duration_ms / end * plot_width)
        css = f"span type-{item.span_type}" + (" error" if item.status == "error" else "") + (" failing" if item.failing else "")
        status = f" ERROR {item.error}" if item.status == "error" else ""
        chart.bars.append(Bar(x, y, min(width, CHART_WIDTH - x), ROW_HEIGHT - 4,
                              f"{item.name} [{item.span_type}] +{render.duration(item.offset_ms)} for "
                              f"{render.duration(item.duration_ms)}{status}", css))
        marker = "▶ " if item.failing else ""
        chart.labels.append(Label(4 + min(item.depth, 8) * 8, y + ROW_HEIGHT - 6,
                                  marker + _cut(item.name, 26 - min(item.depth, 8)),
                                  css="label failing" if item.failing else "label"))
    chart.labels += [Label(LABEL_WIDTH, chart.height - 4, "0"),
                     Label(CHART_WIDTH, chart.height - 4, render.duration(end), anchor="end")]
    return chart


def _cut(text: str, width: int) -> str:
    """One line of at most `width` characters (an ellipsis marks a cut)."""
    line = " ".join(str(text).split())
    return line if len(line) <= width else line[: width - 1] + "…"
