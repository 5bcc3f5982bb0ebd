"""What report.html shows, measured on a run's snapshot (the view `window_spans`) with the SQL in
`sql/report_html/`, and turned into chart geometry (`charts.py`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb

from halo_local import render
from halo_local.heuristics import Finding
from halo_local.html_report import charts
from halo_local.resources import sql_template, sql_text

LATENCY_SUBJECTS = 6
HISTOGRAM_BINS = 24
COST_TRACES = 15
COST_MODELS = 10
FAILING_SUBJECTS = 8
TIME_BUCKETS = 24
TOP_FINDINGS = 5
TRACES_PER_FINDING = 2
MAX_WATERFALLS = 8
WATERFALL_SPANS = 150


@dataclass
class LatencyView:
    anchor: str
    subject: str
    span_type: str
    spans: int
    p50_ms: float
    p95_ms: float
    chart: charts.Chart


@dataclass
class CostView:
    """A cost chart; `unit` is `usd`, or `tokens` when no call in it could be priced."""

    chart: charts.Chart | None
    unit: str
    unpriced_calls: int


@dataclass
class WaterfallView:
    anchor: str
    trace_id: str
    spans_shown: int
    trace_spans: int
    failing_spans: int
    chart: charts.Chart


@dataclass
class FindingView:
    """A finding with where to look: anchors of its latency chart, failures row and waterfalls."""

    anchor: str
    finding: dict[str, Any]  # the finding's template view (`Finding.to_json()`)
    latency_anchor: str | None
    failures_anchor: str | None
    waterfalls: list[tuple[str, str]] = field(default_factory=list)  # (anchor, trace id)


@dataclass
class PageData:
    latency: list[LatencyView]
    cost_traces: CostView
    cost_models: CostView
    failure_subjects: list[str]
    failures: charts.Chart | None
    waterfalls: list[WaterfallView]
    findings: list[FindingView]

    @property
    def charts_drawn(self) -> int:
        shown = [view.chart for view in self.latency] + [view.chart for view in self.waterfalls]
        shown += [chart for chart in (self.cost_traces.chart, self.cost_models.chart, self.failures) if chart is not None]
        return len(shown)


def _rows(connection: duckdb.DuckDBPyConnection, name: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    cursor = connection.execute(sql_text(f"report_html/{name}.sql"), dict(params))
    columns = [item[0] for item in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def latency_views(connection: duckdb.DuckDBPyConnection) -> list[LatencyView]:
    """A histogram per dominant subject (most total time first), p50 and p95 marked."""
    rows = _rows(connection, "latency_histograms", {"subject_limit": LATENCY_SUBJECTS, "bins": HISTOGRAM_BINS})
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault((row["subject"], row["span_type"]), []).append(row)
    views = []
    for index, ((subject, span_type), group) in enumerate(grouped.items(), start=1):
        first = group[0]
        counts = [0] * HISTOGRAM_BINS
        for row in group:
            counts[row["bin"]] = int(row["spans_in_bin"])
        chart = charts.latency_histogram(counts, low_ms=first["min_ms"], high_ms=first["max_ms"],
                                         p50_ms=first["p50_ms"], p95_ms=first["p95_ms"])
        views.append(LatencyView(f"latency-{index}", subject, span_type, int(first["spans"]), first["p50_ms"],
                                 first["p95_ms"], chart))
    return views


def _priced_or_tokens(rows: Sequence[Mapping[str, Any]], label: str, extra: str = "") -> tuple[charts.Chart | None, str]:
    """Bars of cost where any row is priced, else of tokens (an unpriced model is never drawn at $0)."""
    if not rows:
        return None, "none"
    if any(row["cost_usd"] is not None for row in rows):
        priced = [row for row in rows if row["cost_usd"] is not None]
        return charts.horizontal_bars([(row[label], float(row["cost_usd"]), render.usd(float(row["cost_usd"])) + (
            extra.format(**row) if extra else "")) for row in priced], css="cost"), "usd"
    return charts.horizontal_bars([(row[label], float(row["tokens"]), f"{int(row['tokens']):,} tokens" + (
        extra.format(**row) if extra else "")) for row in rows], css="bar"), "tokens"


def cost_charts(connection: duckdb.DuckDBPyConnection) -> tuple[CostView, CostView]:
    """Cost per trace (costliest first) and per model; by tokens where nothing is priced."""
    per_trace = _rows(connection, "cost_per_trace", {"row_limit": COST_TRACES})
    trace_chart, trace_unit = _priced_or_tokens(per_trace, "trace_id")
    cursor = connection.execute(sql_template("overview/models.sql", relation="window_spans", windowed=False),
                                {"row_limit": COST_MODELS})
    columns = [item[0] for item in cursor.description]
    models = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    for row in models:
        row["tokens"] = int(row["input_tokens"]) + int(row["output_tokens"])
    model_chart, model_unit = _priced_or_tokens(models, "model", " in {calls:,} calls")
    return (CostView(trace_chart, trace_unit, sum(int(row["unpriced_calls"]) for row in per_trace)),
            CostView(model_chart, model_unit, sum(int(row["unpriced_calls"]) for row in models)))


def failures_chart(connection: duckdb.DuckDBPyConnection, window_start: str,
                   window_end: str) -> tuple[list[str], charts.Chart | None]:
    """Failing spans per subject over the window's time; None when nothing failed."""
    rows = _rows(connection, "failures_over_time", {
        "subject_limit": FAILING_SUBJECTS, "buckets": TIME_BUCKETS,
        "window_start": window_start.removesuffix("Z"), "window_end": window_end.removesuffix("Z")})
    series: dict[str, list[int]] = {}
    for row in rows:
        series.setdefault(row["subject"], [0] * TIME_BUCKETS)[row["bucket"]] = int(row["failures_in_bucket"])
    if not series:
        return [], None
    return list(series), charts.failures_over_time(list(series.items()), window_start=window_start,
                                                   window_end=window_end, bucket_label=f"slice (of {TIME_BUCKETS})")


def waterfall_view(connection: duckdb.DuckDBPyConnection, anchor: str, trace_id: str,
                   marked_span_ids: frozenset[str]) -> WaterfallView | None:
    """One trace's waterfall; the spans a finding names (or, failing those, its error spans) marked."""
    rows = _rows(connection, "waterfall", {"trace_id": trace_id, "span_limit": WATERFALL_SPANS})
    if not rows:
        return None
    named = {row["span_id"] for row in rows} & marked_span_ids
    parents = {row["span_id"]: row["parent_span_id"] for row in rows}

    def depth(span_id: str) -> int:
        level, seen, current = 0, {span_id}, parents.get(span_id)
        while current is not None and current in parents and current not in seen:
            seen.add(current)
            level, current = level + 1, parents[current]
        return level

    spans = [charts.WaterfallSpan(
        span_id=row["span_id"], name=row["name"], span_type=row["span_type"], status=row["status_code"],
        offset_ms=float(row["offset_ms"]), duration_ms=float(row["duration_ms"]), depth=depth(row["span_id"]),
        failing=row["span_id"] in named if named else row["status_code"] == "error", error=row["error_message"],
    ) for row in rows]
    return WaterfallView(anchor, trace_id, len(spans), int(rows[0]["trace_spans"]),
                         sum(1 for item in spans if item.failing), charts.waterfall(spans))


def page_data(connection: duckdb.DuckDBPyConnection, *, window_start: str, window_end: str,
              findings: Sequence[Finding]) -> PageData:
    """Every chart of report.html, and each top finding linked to the charts that show it."""
    latency = latency_views(connection)
    cost_traces, cost_models = cost_charts(connection)
    failure_subjects, failures = failures_chart(connection, window_start, window_end)
    latency_by_subject = {view.subject: view.anchor for view in latency}
    marked = frozenset(span_id for item in findings for span_id in item.example_span_ids)
    waterfalls: dict[str, WaterfallView] = {}
    views = []
    for rank, finding in enumerate(findings, start=1):
        view = FindingView(f"finding-{rank}", finding.to_json(), latency_by_subject.get(finding.subject or ""),
                           "failures" if failures is not None and finding.subject in failure_subjects else None)
        if rank <= TOP_FINDINGS:
            for trace_id in list(finding.example_trace_ids)[:TRACES_PER_FINDING]:
                if trace_id not in waterfalls and len(waterfalls) < MAX_WATERFALLS:
                    drawn = waterfall_view(connection, f"trace-{len(waterfalls) + 1}", trace_id, marked)
                    if drawn is not None:
                        waterfalls[trace_id] = drawn
                if trace_id in waterfalls:
                    view.waterfalls.append((waterfalls[trace_id].anchor, trace_id))
        views.append(view)
    return PageData(latency, cost_traces, cost_models, failure_subjects, failures,
                    list(waterfalls.values()), views)
