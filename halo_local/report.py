"""The report: a markdown brief for a coding agent, rendered from Jinja templates in `prompts/`.

`collect_sections` takes the window-wide overview (totals, cost, tool use: `sql/overview/`, or the
cluster's) and measures the snapshot's errors and latency with the SQL in `sql/runs/`; `render_report` combines those numbers with the ranked findings and, when it ran,
the LLM's notes. Heuristics-only, the output depends on nothing but the run's data and options
(no clock, stable ordering), so golden files can pin it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from halo_local import heuristics, render, untrusted
from halo_local.common.rows import camel_case, rows_as_dicts
from halo_local.common.timestamps import iso
from halo_local.heuristics import CheckResult, Finding
from halo_local.resources import resource_dir, sql_text

if TYPE_CHECKING:
    from halo_local.changes import Changes
    from halo_local.llm import LlmResult
    from halo_local.verdicts import TraceVerdict

SECTION_ROWS = 10
TOP_ISSUES = 10
EXAMPLE_IDS = 5
LINK_HOST_ROWS = 10_000
_SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
READ_FIRST = 5  # traces in "Read these traces first"
CHANGES_SHOWN = 10  # findings listed per kind of change (new, still open, gone)

_environment: Environment | None = None


@dataclass(frozen=True)
class ReportRun:
    """The facts of a run the report states: what was analysed, with which options, and how much of
    the window the snapshot holds (`snapshot_*` of `window_*`: fewer when the span limit cut it)."""

    run_id: str
    agent_uuid: str
    agent_name: str | None
    window_start: datetime
    window_end: datetime
    prompt: str
    model_id: str
    span_limit: int
    snapshot_spans: int
    snapshot_traces: int
    window_spans: int
    window_traces: int
    previous_spans: int
    source: str | None  # the redacted ClickHouse URL the window was read from; None: the local store

    @property
    def truncated(self) -> bool:
        return self.snapshot_spans < self.window_spans

    def template_view(self) -> dict[str, Any]:
        """The camelCase names the report template reads, window bounds as ISO text."""
        return {
            "runId": self.run_id, "agentUuid": self.agent_uuid, "agentName": self.agent_name,
            "windowStart": iso(self.window_start), "windowEnd": iso(self.window_end),
            "prompt": self.prompt, "modelId": self.model_id, "spanLimit": self.span_limit,
            "snapshotSpans": self.snapshot_spans, "snapshotTraces": self.snapshot_traces,
            "windowSpans": self.window_spans, "windowTraces": self.window_traces,
            "truncated": self.truncated, "previousSpans": self.previous_spans, "source": self.source,
        }


@dataclass(frozen=True)
class ReportSections:
    """The report's measured tables. Rows are SQL result rows with camelCase keys: `overview` the
    window-wide totals, `cost` per model and `tools` per tool (both window-wide), `errors` and
    `latency` over the snapshot; `link_hosts` the only hosts LLM text may link to (none read when the
    run writes no LLM text)."""

    overview: dict[str, Any]
    cost: list[dict[str, Any]]
    tools: list[dict[str, Any]]
    errors: list[dict[str, Any]]
    latency: list[dict[str, Any]]
    link_hosts: tuple[str, ...]


@dataclass(frozen=True)
class LlmState:
    """How the run's LLM step went: `result` when it ran; else skipped (`skipped_reason`), or failed or
    stopped (`degraded`, with `error`); `stopped` means by the time limit or a cancel, not failed."""

    ran: bool
    skipped_reason: str | None
    degraded: bool
    error: str | None
    stopped: bool
    model_id: str
    result: LlmResult | None


def _percent(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value * 100:.{digits}f}%"


def _one_line(value: Any, width: int | None = None) -> str:
    """Text on one line, cut at a word boundary with an ellipsis when longer than `width`; control
    characters shown escaped (`\\x1b`), so a report opened in a terminal cannot drive it."""
    text = "-" if value is None or value == "" else untrusted.terminal_line(" ".join(str(value).split()))
    if width is None or len(text) <= width:
        return text
    head = text[: width - 1]
    cut = head.rfind(" ")
    if cut >= width // 2:
        head = head[:cut]
    return head.rstrip(" ,;:.-") + "…"


def _cell(value: Any, width: int = 80) -> str:
    """Text safe inside a markdown table cell: one line, pipes escaped, shortened."""
    return _one_line(value, width).replace("|", "\\|")


def _text(value: Any, width: int | None = None) -> str:
    """Plain text safe anywhere in markdown (headings, prose, table cells): one line, with markdown
    and HTML punctuation backslash-escaped, so data can never become emphasis, links or tags."""
    return untrusted.escape_markdown(_one_line(value, width))


def _code(value: Any) -> str:
    """An inline code span of one line that holds any text."""
    return untrusted.code_span(_one_line(value))


def _counted(value: int | None, singular: str, plural: str | None = None) -> str:
    """`1 span`, `3 spans`: a count with its noun in the right number."""
    noun = singular if value == 1 else (plural or singular + "s")
    return f"{render.count(value)} {noun}"


def _sql_string(value: Any) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _shell_quoted(value: Any) -> str:
    """Text as one double-quoted shell word (newlines kept), so SQL with '...' literals pastes as is."""
    text = str(value).strip()
    return '"' + re.sub(r'([\\"$`])', r"\\\1", text) + '"'


def _number(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "-"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.{digits}f}"


_DETAIL_SHOWN_APART = frozenset({"reasons"})  # the report lists them on lines of their own


def _detail(detail: Mapping[str, Any] | None, width: int = 200) -> str:
    """A finding's detector-specific extras on one line: `key: value; ...`, each value shortened
    to `width` characters and shown as inline code, so no text from the traces acts as markdown."""
    parts = []
    for key, value in (detail or {}).items():
        if key in _DETAIL_SHOWN_APART or value is None or value == "" or value == [] or value == {}:
            continue
        shown = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
        parts.append(f"{_text(key)}: {_code(_one_line(shown, width))}")
    return "; ".join(parts)


def _timestamp(value: str | None) -> str:
    return render.timestamp(value)


def environment() -> Environment:
    """The Jinja environment for `prompts/`: StrictUndefined, markdown-friendly whitespace."""
    global _environment
    if _environment is None:
        env = Environment(
            loader=FileSystemLoader(str(resource_dir("prompts"))),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
            autoescape=False,
        )
        env.filters.update(
            usd=render.usd, duration=render.duration, count=render.count, ts=_timestamp, pct=_percent,
            cell=_cell, text=_text, code=_code, counted=_counted, line=_one_line,
            sql=_sql_string, shell=_shell_quoted, number=_number, detail=_detail,
            tojson=lambda value: json.dumps(value, sort_keys=True),
        )
        env.globals["guidance_templates"] = {item.category: item.guidance for item in heuristics.DETECTORS}
        _environment = env
    return _environment


def collect_sections(connection: duckdb.DuckDBPyConnection, overview: Mapping[str, Any], *,
                     for_llm_text: bool) -> ReportSections:
    """The report's measured sections: the window-wide `overview` (sources/overview.py: totals, cost per
    model, tool use over every span of the window) and, over the view `window_spans` (a run's snapshot,
    where the examples come from), errors and latency. The link hosts only `for_llm_text` (an LLM step
    will write text the report checks links of): they scan every span's attributes, 0.75 CPU-s of the
    heuristics step at 1M spans, and no other text of the report is checked against them."""
    measured = {name: rows_as_dicts(connection.execute(sql_text(f"runs/{name}.sql"), {"row_limit": SECTION_ROWS}))
                for name in ("errors", "latency")}
    return ReportSections(
        overview=report_totals(overview["totals"]),
        cost=[_report_row(row) for row in overview["models"][:SECTION_ROWS]],
        tools=[_report_row(row) for row in overview["tools"][:SECTION_ROWS]],
        errors=measured["errors"], latency=measured["latency"],
        link_hosts=tuple(sorted(link_hosts(connection))) if for_llm_text else (),
    )


def report_totals(totals: Mapping[str, Any]) -> dict[str, Any]:
    """The overview's totals as the report reads them: camelCase keys, the cost as a float (a recorded
    overview holds it as text), the error rate over traces."""
    row = _report_row(totals)
    row["errorRate"] = row["errorTraces"] / row["traces"] if row["traces"] else None
    row["unpricedModels"] = list(row["unpricedModels"] or [])
    return row


def _report_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {camel_case(name): float(value) if name == "cost_usd" and value is not None else value
            for name, value in row.items()}


def link_hosts(connection: duckdb.DuckDBPyConnection) -> frozenset[str]:
    """The hosts that URL and host attributes of `window_spans` name: the only hosts LLM text may link to."""
    rows = connection.execute(sql_text("runs/link_hosts.sql"), {"row_limit": LINK_HOST_ROWS}).fetchall()
    return untrusted.hosts_named(value for (value,) in rows)


def snapshot_link_hosts(snapshot: Path) -> frozenset[str]:
    """`link_hosts` of a run's snapshot file; none when the file is gone (every link is then removed)."""
    if not snapshot.is_file():
        return frozenset()
    connection = duckdb.connect()
    try:
        connection.read_parquet(str(snapshot)).create_view("window_spans")
        return link_hosts(connection)
    finally:
        connection.close()


def build_issues(findings: Sequence[Finding], llm_result: LlmResult | None,
                 link_hosts: Iterable[str] = ()) -> list[dict[str, Any]]:
    """The ranked issues as the report template reads them. Heuristics-only: the findings in their
    ranked order.

    With the LLM's notes: the verified issues first (a note joined to its finding, or a finding no note
    covered), by the findings' severity and, within one severity, in the LLM's order; then the notes no
    finding supports, marked unverified, so the LLM can neither bury a measured HIGH finding nor rank an
    invented issue above it. An issue carries `likelyCause` / `fix` only when the LLM wrote them (the
    template falls back to per-category guidance); the `...Markdown` keys hold LLM text made inert.
    """
    return _issues([item.to_json() for item in findings], llm_result, frozenset(link_hosts))


def _issues(findings: Sequence[Mapping[str, Any]], llm_result: LlmResult | None,
            hosts: frozenset[str]) -> list[dict[str, Any]]:
    """`build_issues` over the findings' template views (`Finding.to_json()`)."""
    by_key = {item["key"]: item for item in findings}
    verified: list[dict[str, Any]] = []
    unverified: list[dict[str, Any]] = []
    covered: set[str] = set()
    notes = sorted(llm_result.notes, key=lambda note: note.rank) if llm_result is not None else []
    for note in notes:
        finding = by_key.get(note.finding_key) if note.finding_key else None
        if finding is not None:
            covered.add(finding["key"])
        trace_ids = _merge_ids(note.trace_ids, finding["exampleTraceIds"] if finding else ())
        span_ids = _merge_ids(note.span_ids, finding["exampleSpanIds"] if finding else ())
        title = note.title or (finding["title"] if finding else "Issue")
        (verified if finding is not None else unverified).append({
            "title": title, "titleMarkdown": untrusted.llm_inline(_one_line(title, 160), hosts),
            "cellMarkdown": re.sub(r"(?<!\\)\|", r"\\|", untrusted.llm_inline(_one_line(title, 80), hosts)),
            "plainTitle": finding["title"] if finding else "unverified issue found by the LLM",
            "severity": finding["severity"] if finding else None,
            "category": finding["category"] if finding else None,
            "subject": finding["subject"] if finding else None,
            "finding": finding, "likelyCause": note.likely_cause, "fix": note.fix, "source": "llm",
            "likelyCauseMarkdown": _llm_field(note.likely_cause, hosts), "fixMarkdown": _llm_field(note.fix, hosts),
            "verified": finding is not None, "traceIds": trace_ids, "spanIds": span_ids,
        })
    for finding in findings:
        if finding["key"] in covered:
            continue
        verified.append({
            "title": finding["title"], "titleMarkdown": _text(finding["title"], 160),
            "cellMarkdown": _text(finding["title"], 80), "plainTitle": finding["title"],
            "severity": finding["severity"], "category": finding["category"],
            "subject": finding["subject"], "finding": finding, "likelyCause": None, "fix": None,
            "source": "heuristics", "verified": True, "traceIds": list(finding["exampleTraceIds"])[:EXAMPLE_IDS],
            "spanIds": list(finding["exampleSpanIds"])[:EXAMPLE_IDS],
        })
    if llm_result is not None:
        verified.sort(key=lambda issue: _SEVERITY_ORDER.get(issue["severity"], len(_SEVERITY_ORDER)))
    issues = verified + unverified
    for rank, issue in enumerate(issues, start=1):
        issue["rank"] = rank
    return issues


def _llm_field(text: str | None, hosts: frozenset[str]) -> str | None:
    """LLM text for after a list item's label: inline when it is one plain line, else an indented block."""
    if not text:
        return None
    rendered = untrusted.llm_markdown(text, hosts)
    if "\n" not in rendered and not rendered.startswith((">", "```", "- ")) and not re.match(r"\d+\. ", rendered):
        return " " + rendered
    return "\n" + "\n".join(f"  {line}" if line else "" for line in rendered.split("\n"))


def _merge_ids(first: Sequence[str], second: Sequence[str]) -> list[str]:
    merged: list[str] = []
    for item in [*first, *second]:
        if item not in merged:
            merged.append(item)
    return merged[:EXAMPLE_IDS]


def render_report(
    *,
    run: ReportRun,
    sections: ReportSections,
    findings: Sequence[Finding],
    checks: Sequence[CheckResult],
    llm_state: LlmState,
    read_first: Sequence[TraceVerdict] = (),
    changes: Changes | None = None,
) -> str:
    """The report markdown for a run.

    `findings`: ranked; `checks`: one per category; `read_first`: the top flagged trace verdicts, for
    "Read these traces first"; `changes`: the comparison with the previous completed run
    (`changes.compare`), which the report opens with. The template reads camelCase names: each record
    is turned into its template view here, once.
    """
    result = llm_state.result
    hosts = frozenset(sections.link_hosts)
    views = [item.to_json() for item in findings]
    issues = _issues(views, result, hosts)
    context = {
        "run": run.template_view(),
        "changes": changes.to_json() if changes is not None else None,
        "changes_shown": CHANGES_SHOWN,
        "overview": sections.overview,
        "errors": sections.errors,
        "latency": sections.latency,
        "cost": sections.cost,
        "tools": sections.tools,
        "findings": views,
        "read_first": _read_first(read_first, findings),
        "issues": issues[:TOP_ISSUES],
        "example_traces": list(dict.fromkeys(issue["traceIds"][0] for issue in issues if issue["traceIds"]))[:3],
        "more_issues": issues[TOP_ISSUES:],
        "severity_counts": {level: sum(1 for item in findings if item.severity == level)
                            for level in ("high", "medium", "low")},
        "healthy": [item for item in checks if item.status == "healthy"],
        "not_applicable": [item for item in checks if item.status == "not_applicable"],
        "llm": {
            "ran": llm_state.ran, "skippedReason": llm_state.skipped_reason,
            "degraded": llm_state.degraded, "error": llm_state.error,
            "stopped": llm_state.stopped, "modelId": llm_state.model_id,
            "summary": untrusted.llm_markdown(result.summary, hosts) if result is not None else None,
            "turns": result.turns if result is not None else None,
            "inputTokens": result.input_tokens if result is not None else None,
            "outputTokens": result.output_tokens if result is not None else None,
            "costUsd": result.cost_usd if result is not None else None,
            "notes": len(result.notes) if result is not None else 0,
            "unverifiedNotes": sum(1 for issue in issues if not issue["verified"]),
            "inventedIdsRemoved": result.invented_ids_removed if result is not None else None,
        },
    }
    text = environment().get_template("report.md.j2").render(**context)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def _read_first(verdicts: Sequence[TraceVerdict], findings: Sequence[Finding]) -> list[dict[str, Any]]:
    """The traces to read first: id, how it ended, and the categories of the findings that flag it."""
    categories = {item.key: item.category for item in findings}
    return [
        {"traceId": item.trace_id, "outcome": item.outcome, "outcomeSpanId": item.outcome_span_id,
         "categories": list(dict.fromkeys(categories[key] for key in item.finding_keys if key in categories))}
        for item in verdicts
    ]


# Question words that point at finding categories, for answering follow-ups without the LLM.
_CATEGORY_WORDS: dict[str, tuple[str, ...]] = {item.category: item.words for item in heuristics.DETECTORS}
_STOPWORDS = frozenset(
    "the and for are was were what which who why how does did this that with from have has had not but "
    "can could should would will there their them they its it's into about than then when where your you "
    "our out any all most more some first fix".split()
)


def match_findings(question: str, findings: Sequence[Finding], limit: int = 5) -> list[Finding]:
    """The findings a question is about: its words against categories, subjects, titles and details."""
    words = [word for word in re.findall(r"[a-z0-9_.\-]+", question.lower())
             if len(word) >= 3 and word not in _STOPWORDS]
    scored = []
    for index, finding in enumerate(findings):
        category_words = _CATEGORY_WORDS.get(finding.category, ())
        subject = (finding.subject or "").lower()
        title = finding.title.lower()
        detail = json.dumps(finding.detail, sort_keys=True).lower()
        score = 0
        for word in words:
            if word in category_words or word == finding.category:
                score += 3
            if subject and (word == subject or word in subject):
                score += 4
            if word in title:
                score += 2
            if word in detail:
                score += 1
        if score:
            scored.append((-score, index, finding))
    return [finding for _, _, finding in sorted(scored, key=lambda item: item[:2])[:limit]]


def render_followup_answer(*, question: str, findings: Sequence[Finding], unavailable_reason: str) -> str:
    """A deterministic answer to a follow-up from the findings alone (no LLM available)."""
    ranked = list(findings)
    context = {
        "question": question,
        "reason": unavailable_reason,
        "matched": [{"rank": ranked.index(item) + 1, "finding": item.to_json()}
                    for item in match_findings(question, findings)],
        "top": [{"rank": rank, "finding": item.to_json()} for rank, item in enumerate(findings[:3], start=1)],
        "total": len(findings),
    }
    text = environment().get_template("report/followup.md.j2").render(**context)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def render_llm_answer(*, answer: str, link_hosts: Iterable[str], model_id: str) -> str:
    """The LLM's answer to a follow-up, made inert like the report's LLM text, under a fixed header."""
    text = environment().get_template("report/llm_answer.md.j2").render(
        answer=untrusted.llm_markdown(answer, link_hosts), model_id=model_id)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
