"""Helpers for the report.html tests: a 10,000-span window stored in one insert, and headless Chromium
(Debian's `chromium`) run on a file with its console on stderr."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pyarrow as pa
import pytest
from runs_support import BASE, span

from halo_local.store import Store

HOSTILE_TOOL = "<script>alert('x')</script><img src=x onerror=alert(1)>"
MODELS = ("gpt-4o", "gpt-4o-mini", "claude-sonnet-4-5")


def ten_thousand_spans(store: Store) -> int:
    """2,000 traces of 5 spans over two hours: three models with priced calls, a tool that fails in
    the first hour only, and a tool whose name is markup (it must reach the page as text)."""
    rows = []
    for trace in range(2000):
        begin = BASE - timedelta(hours=1) + timedelta(seconds=trace * 3.6)
        model = MODELS[trace % len(MODELS)]
        early = trace < 1000
        rows += [
            span(trace, 0, start=begin, seconds=6.0 + trace % 7),
            span(trace, 1, start=begin, seconds=1.0 + (trace % 11) / 4, parent=0, span_type="llm", name=f"chat {model}",
                 model=model, provider="openai", input_tokens=900 + trace % 300, output_tokens=40 + trace % 50,
                 cost_usd=0.001 * (1 + trace % 9), cost_source="computed"),
            span(trace, 2, start=begin + timedelta(seconds=1), seconds=0.2 + (trace % 13) / 10, parent=0,
                 span_type="tool", name="function.list_files", tool_name="list_files",
                 status="error" if early and trace % 3 == 0 else "ok",
                 error_message="No such file or directory: './missing'" if early and trace % 3 == 0 else None),
            span(trace, 3, start=begin + timedelta(seconds=2), seconds=0.05, parent=0, span_type="tool",
                 name=HOSTILE_TOOL, tool_name=HOSTILE_TOOL, status="error" if trace % 50 == 0 else "ok",
                 error_message="<b>bold</b> & broken" if trace % 50 == 0 else None),
            span(trace, 4, start=begin + timedelta(seconds=3), seconds=1.5, parent=0, span_type="llm",
                 name=f"chat {model}", model=model, provider="openai", input_tokens=1200, output_tokens=80,
                 cost_usd=0.002, cost_source="computed"),
        ]
    columns = list(dict.fromkeys(name for row in rows for name in row))
    table = pa.Table.from_pylist([{name: row.get(name) for name in columns} for row in rows])
    with store.transaction() as connection:
        connection.register("new_spans", table)
        connection.execute("INSERT INTO spans BY NAME SELECT * FROM new_spans")
        connection.unregister("new_spans")
    return len(rows)


def chromium() -> str:
    """Debian's chromium; absent, the test is skipped with the reason, except under CI where it fails."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        reason = ("headless Chromium is not installed (apt-get install -y --no-install-recommends chromium; "
                  ".ci/run installs it)")
        if os.environ.get("CI"):
            pytest.fail(f"{reason}, and CI is set")
        pytest.skip(reason)
    return found


def run_chromium(page: Path, profile: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """Chromium headless on `page` with its console logged to stderr; a private profile per call."""
    return subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
         f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *arguments, page.as_uri()],
        capture_output=True, text=True, timeout=120, check=True)


def console_messages(stderr: str) -> list[str]:
    """What the page wrote to the console (errors, blocked loads, CSP violations): Chromium's CONSOLE lines."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


class SvgCensus(HTMLParser):
    """Counts each <svg>'s data shapes (rect, line) and the <script> elements of a rendered DOM."""

    def __init__(self) -> None:
        super().__init__()
        self.shapes_per_svg: list[int] = []
        self.scripts = 0
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "svg":
            self.shapes_per_svg.append(0)
            self._inside = True
        elif tag in ("rect", "line") and self._inside:
            self.shapes_per_svg[-1] += 1
        elif tag == "script":
            self.scripts += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self._inside = False


def census(dom: str) -> SvgCensus:
    parser = SvgCensus()
    parser.feed(dom)
    return parser
