"""report.html: the run's report for people, one self-contained page beside report.md.

Charts are inline SVG drawn from geometry computed in Python (`charts.py`) on the run's snapshot
(`data.py`, `sql/report_html/`); the page has no script, loads nothing and reads without JavaScript.
Every text from the traces or the LLM reaches the page through Jinja's HTML autoescape.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from halo_local import render
from halo_local.heuristics import Finding
from halo_local.html_report.data import PageData, page_data
from halo_local.resources import resource_dir

if TYPE_CHECKING:
    from halo_local.changes import Changes
    from halo_local.runs.run_document import RunDocument

__all__ = ["HTML_FILE", "PageData", "PageRun", "render_html", "run_page", "write_html"]

HTML_FILE = "report.html"

_environment: Environment | None = None


def _figure(value: float | None) -> str:
    """A measured figure, short: `3`, `0.273`, `1,200`; `-` when unmeasured."""
    if value is None:
        return "-"
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.3g}"


def _environment_for_html() -> Environment:
    global _environment
    if _environment is None:
        env = Environment(loader=FileSystemLoader(str(resource_dir("prompts") / "report_html")),
                          undefined=StrictUndefined, autoescape=True, trim_blocks=True, lstrip_blocks=True)
        env.filters.update(usd=render.usd, duration=render.duration, count=render.count, ts=render.timestamp,
                           pct=lambda value: "-" if value is None else f"{value * 100:.1f}%",
                           coord=lambda value: f"{value:.1f}", figure=_figure)
        _environment = env
    return _environment


@dataclass(frozen=True)
class PageRun:
    """The run's facts the page heads with; window bounds as ISO text."""

    run_id: str
    agent_name: str | None
    agent_uuid: str
    window_start: str
    window_end: str
    spans: int | None
    traces: int | None
    truncated: bool | None

    def template_view(self) -> dict[str, Any]:
        """The camelCase names the page template reads."""
        return {"runId": self.run_id, "agentName": self.agent_name, "agentUuid": self.agent_uuid,
                "windowStart": self.window_start, "windowEnd": self.window_end, "spans": self.spans,
                "traces": self.traces, "truncated": self.truncated}


def render_html(*, snapshot: Path, run: PageRun, findings: Sequence[Finding], changes: Changes | None = None,
                llm_summary: str | None = None) -> str:
    """The page for a run: `findings` ranked; `changes` the comparison with the previous run (`changes.compare`)."""
    connection = duckdb.connect()
    try:
        connection.read_parquet(str(snapshot)).create_view("window_spans")
        data = page_data(connection, window_start=run.window_start, window_end=run.window_end, findings=findings)
    finally:
        connection.close()
    return _environment_for_html().get_template("report.html.j2").render(
        run=run.template_view(), data=data, changes=changes.to_json() if changes is not None else None,
        llm_summary=llm_summary,
        severity_counts={level: sum(1 for item in findings if item.severity == level)
                         for level in ("high", "medium", "low")},
    )


def run_page(run: RunDocument, *, llm_summary: str | None = None) -> dict[str, Any]:
    """`render_html`'s arguments for a finished run read with its findings."""
    dataset = run.trace_dataset
    facts = PageRun(run_id=run.run_id, agent_name=run.agent_name, agent_uuid=run.agent_uuid,
                    window_start=run.window_start, window_end=run.window_end, spans=dataset.spans,
                    traces=dataset.traces, truncated=dataset.truncated)
    return {"snapshot": Path(dataset.path or ""), "run": facts, "findings": run.findings or (),
            "changes": run.changes, "llm_summary": llm_summary}


def write_html(path: Path, **page: Any) -> Path:
    """Write `render_html(**page)` to `path` atomically (a reader never sees half a page), private like
    every file under $HALO_HOME."""
    partial = path.with_suffix(".html.partial")
    partial.write_text(render_html(**page), encoding="utf-8")
    partial.chmod(0o600)
    partial.replace(path)
    return path
