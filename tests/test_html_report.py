"""report.html in a real browser: Debian's headless Chromium renders the HALO capture's report and a
10,000-span window's; every chart must be drawn (a non-empty <svg> with data shapes), the console must
stay silent (the page's CSP turns any script or network load into a console line), and trace text
that is markup must arrive as text."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from html_support import HOSTILE_TOOL, census, console_messages, run_chromium, ten_thousand_spans
from runs_support import AGENT_UUID, BASE, HALO_WINDOW, insert_spans, span

from halo_local import html_report, runs, traces
from halo_local.errors import HaloLocalError
from halo_local.html_report import charts
from halo_local.store import Store

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _report_of(store: Store, agent_uuid: str, window: tuple[str, str]) -> tuple[Path, float]:
    """A heuristics-only run's report.html (written beside report.md) and the seconds a rendering takes."""
    run = runs.create_run(store, agent_uuid=agent_uuid, window_start_at=window[0], window_end_at=window[1],
                          no_llm=True, wait=True).to_json()
    assert run["status"] == "completed", run["statusReason"]
    page = Path(run["reportPath"]).with_name(html_report.HTML_FILE)
    written = page.read_text(encoding="utf-8")
    started = time.perf_counter()
    assert html_report.render_html(**html_report.run_page(runs.get_run(store, run["runId"]))) == written
    return page, time.perf_counter() - started


def _rendered(page: Path, tmp_path: Path) -> tuple[str, list[str], bytes]:
    """The DOM Chromium built from the page, what the page wrote to the console, and a screenshot."""
    screenshot = tmp_path / f"{page.stem}.png"
    result = run_chromium(page, tmp_path / "profile", "--window-size=1000,1400", f"--screenshot={screenshot}",
                          "--dump-dom")
    return result.stdout, console_messages(result.stderr), screenshot.read_bytes()


def _assert_every_chart_drawn(dom: str, minimum_charts: int) -> Any:
    found = census(dom)
    assert len(found.shapes_per_svg) >= minimum_charts, found.shapes_per_svg
    assert all(shapes > 0 for shapes in found.shapes_per_svg), f"an empty chart: {found.shapes_per_svg}"
    assert found.scripts == 0
    return found


@pytest.mark.usefixtures("halo_store")
def test_the_halo_capture_report_renders_in_chromium_with_every_chart_drawn(store: Store, tmp_path: Path) -> None:
    agent = traces.list_agents(store, time_range="all")[0]["agentUuid"]
    page, _ = _report_of(store, agent, HALO_WINDOW)

    dom, console, screenshot = _rendered(page, tmp_path)

    assert console == []
    # 6 latency histograms, cost per trace and per model (by tokens: HALO's model is unpriced),
    # failures over time, and a waterfall per example trace of the top findings.
    found = _assert_every_chart_drawn(dom, minimum_charts=10)
    assert 'id="finding-1"' in dom and 'href="#trace-1"' in dom and 'id="trace-1"' in dom
    assert 'href="#failures"' in dom and "class=\"span type-tool error failing\"" in dom
    assert screenshot.startswith(PNG_SIGNATURE) and len(screenshot) > 20_000
    assert len(found.shapes_per_svg) == dom.count("<svg")

    # `run report` draws a page that is gone (or predates pages) again from the snapshot.
    [run] = [item.to_json() for item in runs.list_runs(store)]
    written = page.read_text(encoding="utf-8")
    page.unlink()
    assert runs.report_html(store, run["runId"]) == page and page.read_text(encoding="utf-8") == written


def test_a_run_without_a_report_has_no_page_and_says_why(store: Store) -> None:
    insert_spans(store, [span(0, 0, start=BASE)])
    run = runs.create_run(store, agent_uuid=AGENT_UUID, window_start_at="2020-01-01T00:00:00Z",
                          window_end_at="2020-01-02T00:00:00Z", no_llm=True, wait=True).to_json()
    assert run["status"] == "no_traces"
    with pytest.raises(HaloLocalError, match=r"has no report: it is no_traces: no spans of agent"):
        runs.report_html(store, run["runId"])


def test_a_ten_thousand_span_window_renders_and_its_markup_in_names_stays_text(store: Store, tmp_path: Path) -> None:
    assert ten_thousand_spans(store) == 10_000
    page, _ = _report_of(store, AGENT_UUID, ("2026-04-24T16:00:00Z", "2026-04-24T20:00:00Z"))
    source = page.read_text(encoding="utf-8")

    dom, console, screenshot = _rendered(page, tmp_path)

    assert console == []
    _assert_every_chart_drawn(dom, minimum_charts=10)
    assert screenshot.startswith(PNG_SIGNATURE) and len(screenshot) > 20_000
    assert "<script" not in source and "<img" not in source
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in source
    assert "<b>bold</b>" not in source and "&lt;b&gt;bold&lt;/b&gt; &amp; broken" in source
    assert HOSTILE_TOOL[:20] in dom.replace("&lt;", "<").replace("&gt;", ">")  # shown, as text
    assert "/ 2,000 traces" not in source and "10,000 spans in 2,000 traces" in source
    assert 'id="cost-traces"' in source and "$" in source.split('id="cost-traces"')[1].split("</section>")[0]


def test_the_console_check_sees_a_script_or_a_network_load(tmp_path: Path) -> None:
    """The silent console above proves something only if a script or a fetch would be heard."""
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><meta http-equiv="Content-Security-Policy" content="default-src \'none\'">'
                    '<img src="https://example.invalid/x.png"><script>console.error("boom")</script>',
                    encoding="utf-8")
    _, console, _ = _rendered(page, tmp_path)
    assert len(console) >= 2


def test_histogram_geometry_puts_p50_left_of_p95_and_every_bar_inside_the_chart() -> None:
    chart = charts.latency_histogram([5, 0, 3, 0, 1], low_ms=10.0, high_ms=10_000.0, p50_ms=100.0, p95_ms=5_000.0)
    p50, p95 = chart.marks
    assert (p50.css, p95.css) == ("p50", "p95") and 0 < p50.x < p95.x < chart.width
    assert p50.x == pytest.approx(chart.width / 3)  # 100 ms is a third of the way from 10 ms to 10 s on a log axis
    assert len(chart.bars) == 3 and all(bar.x >= 0 and bar.x + bar.width <= chart.width for bar in chart.bars)
    assert max(bar.height for bar in chart.bars) == pytest.approx(90.0)
