"""The deterministic half of an analysis: SQL detectors over one agent's window of spans.

Each file `sql/heuristics/<category>.sql` is one detector returning rows in the findings shape
(`FINDING_COLUMNS`). Files starting with `_` are shared set-up: `_prepare.sql` reads the window
once into a narrow TEMP table of spans (`halo_h_spans`: flags derived from the long text columns,
not the texts), so a Parquet snapshot and its long text columns are read a single time (plus
narrow passes for the parent links and for the lists of declared tools). It then groups those spans
once per trace (`halo_h_traces`), once per subject (`halo_h_subjects`, with the latency
percentiles) and once for the window (`halo_h_totals`, which also holds the coverage counters), and
`_failures.sql` collects the failures (`halo_h_failures`): detectors, checks and statistics read
these instead of grouping a million spans again each. Work whose input is empty is left out, as its
planning costs more than a small window's rows: flags read after the narrow table
(`_window_guards.sql`) and after the failures (`_setup_guards.sql`) say which set-up tables are not
built (`_SKIPPED_UNLESS`; the detectors reading them are not run) or are made empty in the shape
their statement gives them (`_EMPTY_UNLESS`, read by DESCRIBE without running it), and `_applicable.sql` which detectors can find
anything at all. `_shape.sql` then defines the macros detectors share (the
findings shape, the findings of failures and of output problems, the retried-failure query). The
tables are dropped when the analysis ends; the macros stay on the connection (TEMP, so its own),
created by its first analysis only: parsing them and the regular expressions inside costs more than
running a small window's detectors, and a connection that analyses again (a server, a test, a
bench) would pay it each time. A connection variable names the macro set it holds. The set-up reads the thresholds too (it flags
clock skew with its tolerance). Ranking is in `ranking.py`, the detectors are listed in `registry.py`.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

import duckdb

from halo_local.common.rows import camel_case, stored_rows
from halo_local.common.timestamps import iso
from halo_local.config import Thresholds
from halo_local.errors import HaloLocalError
from halo_local.heuristics.finding import (
    FINDING_COLUMNS,
    MAX_EXAMPLES,
    Analysis,
    CheckResult,
    Finding,
    FixTarget,
)
from halo_local.heuristics.outcomes import weigh_outcomes
from halo_local.heuristics.ranking import SEVERITIES, rank_findings
from halo_local.heuristics.registry import CATEGORIES, detector, detector_files
from halo_local.resources import resource_dir, sql_template, sql_text

_TEMP_TABLES = (
    "halo_h_spans",
    "halo_h_tool_lists",
    "halo_h_finish_reasons",
    "halo_h_traces",
    "halo_h_failures",
    "halo_h_totals",
    "halo_h_subjects",
    "halo_h_previous",
    "halo_h_texts",
    "halo_h_outcomes",
    "halo_h_attribution",
    "halo_h_failure_groups",
    "halo_h_retried_groups",
    "halo_h_assumed_agents",
    "halo_h_declining_agents",
    "halo_h_claims",
)
_PARAMETER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_COMMENT = re.compile(r"--[^\n]*")
_STATEMENT_END = re.compile(r";[ \t]*(?:\n|$)")
_CREATES_MACRO = re.compile(r"^\s*CREATE OR REPLACE TEMP MACRO\b")
_CREATES_TABLE = re.compile(r"^\s*CREATE OR REPLACE TEMP TABLE (\w+)")
_CREATE_PREFIX = re.compile(r"^(?:\s*--[^\n]*\n)*\s*CREATE OR REPLACE TEMP TABLE \w+ AS\b")
_SET_UP_TABLE = re.compile(r"\bhalo_h_\w+")
# Set-up tables built only when their input has rows, each with its flag (_window_guards.sql,
# _setup_guards.sql). Skipped: not built at all, and what reads them is not run (only detectors do,
# under the same condition). Empty: made empty in the shape their statement gives them (other set-up
# statements and checks read them), read once per process by DESCRIBE, which runs none of it.
_SKIPPED_UNLESS = {
    "halo_h_retried_groups": "retried_failures",
    "halo_h_attribution": "root_errors",
    "halo_h_failure_groups": "root_errors",
    "halo_h_assumed_agents": "assumed_data",
}
_EMPTY_UNLESS = {
    "halo_h_failures": "failing_spans",
    "halo_h_claims": "stated_facts",
    "halo_h_texts": "marker_texts",
}
# The columns of each table of _EMPTY_UNLESS, by halo_h_spans' columns (what they derive from).
_SHAPES: dict[tuple[str, str], str] = {}
_SET_UP_FILES = ("_prepare.sql", "_failures.sql", "_no_previous.sql", "_previous.sql", "_shape.sql",
                 "_attribution.sql", "_outcomes.sql", "_claims.sql")


def _statements(text: str) -> list[str]:
    """Split a set-up file at semicolons ending a line; comment-only pieces are dropped."""
    pieces = [piece.strip() for piece in _STATEMENT_END.split(text)]
    return [piece for piece in pieces if _COMMENT.sub("", piece).strip()]


def _execute(
    connection: duckdb.DuckDBPyConnection, sql: str, parameters: Mapping[str, Any]
) -> duckdb.DuckDBPyConnection:
    """Run `sql` with just the named parameters it uses (DuckDB rejects unused ones)."""
    used = set(_PARAMETER.findall(_COMMENT.sub("", sql)))
    missing = used - set(parameters)
    if missing:
        raise KeyError(f"SQL parameters without a value: {sorted(missing)}")
    return connection.execute(sql, {name: parameters[name] for name in used})


@cache
def _script(name: str, *, declared_column: bool = False) -> list[str]:
    """A set-up file's statements, rendered by Jinja; `declared_column`: the window has the agent each
    span declares as a column (a run's snapshot writes it), so _prepare.sql need not read the attributes."""
    return _statements(sql_template(f"heuristics/{name}", declared_column=declared_column))


def _creates_macro(statement: str) -> bool:
    return bool(_CREATES_MACRO.match(_COMMENT.sub("", statement)))


@cache
def _macro_set() -> str:
    """A name for this version of the set-up's macros: a connection holding it need not create them."""
    macros = [statement for name in _SET_UP_FILES for statement in _script(name) if _creates_macro(statement)]
    return hashlib.sha256("\n;\n".join(macros).encode("utf-8")).hexdigest()[:16]


def _holds_macros(connection: duckdb.DuckDBPyConnection) -> bool:
    row = connection.execute("SELECT getvariable('halo_h_macro_set')").fetchone()
    return row is not None and row[0] == _macro_set()


def _created_table(statement: str) -> str | None:
    match = _CREATES_TABLE.match(_COMMENT.sub("", statement))
    return match.group(1) if match else None


@cache
def _tables_read(sql: str) -> frozenset[str]:
    """The set-up tables (and macros) a statement names: it cannot run when one was not built."""
    return frozenset(_SET_UP_TABLE.findall(_COMMENT.sub("", sql)))


@dataclass
class _SetUp:
    """What the set-up left out so far: tables not built (`skipped`), tables to make empty
    (`empty`), and the shape of halo_h_spans that the empty tables' columns are remembered by."""

    skipped: set[str] = field(default_factory=set)
    empty: set[str] = field(default_factory=set)
    spans_shape: str = ""


def _make_empty(connection: duckdb.DuckDBPyConnection, table: str, statement: str, parameters: Mapping[str, Any],
                shape: str) -> None:
    """Create `table` empty with the columns its statement gives it over spans of `shape`: remembered once
    built, else read by DESCRIBE of the statement's query, which binds it and runs none of it (a fresh
    process, such as a run's worker, would otherwise pay the whole statement for an empty table)."""
    columns = _SHAPES.get((table, shape))
    if columns is None:
        query = _CREATE_PREFIX.sub("", statement, count=1)
        described = _execute(connection, f"DESCRIBE {query}", parameters).fetchall()
        columns = _SHAPES[(table, shape)] = ", ".join(
            '"{}" {}'.format(name.replace('"', '""'), kind) for name, kind, *_ in described)
    connection.execute(f"CREATE OR REPLACE TEMP TABLE {table} ({columns})")


def _run_script(
    connection: duckdb.DuckDBPyConnection, name: str, parameters: Mapping[str, Any], *, create_macros: bool,
    set_up: _SetUp, declared_column: bool = False,
) -> None:
    """Run a set-up file; its macro definitions only when `create_macros` (they run in file order
    then: a table macro binds the TEMP tables created before it). A table in `set_up.skipped`, or
    one built from such a table, is not built (and is added to it); one in `set_up.empty` is made
    empty when its shape is known."""
    for statement in _script(name, declared_column=declared_column):
        if _creates_macro(statement):
            if create_macros:
                _execute(connection, statement, parameters)
            continue
        table = _created_table(statement)
        if table is not None and (table in set_up.skipped or _tables_read(statement) & set_up.skipped):
            set_up.skipped.add(table)
            continue
        if table in set_up.empty:
            _make_empty(connection, table, statement, parameters, set_up.spans_shape)
            continue
        _execute(connection, statement, parameters)


def _check_source(connection: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    """The columns of `table`; HaloLocalError when there is no such table or view."""
    try:
        cursor = connection.execute(sql_text("heuristics/_check_source.sql"), {"table": table})
    except duckdb.CatalogException as error:
        raise HaloLocalError(
            f"no table or view named {table!r} to analyze", hint="create the run's window view first"
        ) from error
    cursor.fetchall()
    return {str(column[0]) for column in cursor.description or ()}


def _prepare(
    connection: duckdb.DuckDBPyConnection,
    *,
    agent_uuid: str,
    table: str,
    previous_table: str | None,
    parameters: Mapping[str, Any],
) -> set[str]:
    """Read the window into the TEMP tables; `parameters` are the thresholds (the set-up flags
    clock skew with its tolerance, so that data_quality reads a flag instead of every span).
    Returns the set-up tables not built because their input was empty (`_SKIPPED_UNLESS`)."""
    declared_column = "declared_agent" in _check_source(connection, table)
    create = not _holds_macros(connection)
    window = {"source_table": table, "agent_uuid": agent_uuid}
    set_up = _SetUp()
    _run_script(connection, "_prepare.sql", {**parameters, **window}, create_macros=create, set_up=set_up,
                declared_column=declared_column)
    flags = stored_rows(_execute(connection, sql_text("heuristics/_window_guards.sql"), window))[0]
    set_up.spans_shape = str(flags["spans_shape"])
    _leave_out(set_up, flags)
    _run_script(connection, "_failures.sql", {}, create_macros=create, set_up=set_up)
    if flags["failing_spans"]:
        _leave_out(set_up, _fetch_dicts(connection, "_setup_guards.sql")[0])
    else:  # no failure at all: no root-cause failure of any kind
        _leave_out(set_up, {"root_errors": False, "retried_failures": False})
    if previous_table is None:
        _run_script(connection, "_no_previous.sql", {}, create_macros=create, set_up=set_up)
    else:
        _check_source(connection, previous_table)
        _run_script(connection, "_previous.sql", {"source_table": previous_table, "agent_uuid": agent_uuid},
                    create_macros=create, set_up=set_up)
    _run_script(connection, "_shape.sql", {}, create_macros=create, set_up=set_up)
    _run_script(connection, "_attribution.sql", window, create_macros=create, set_up=set_up)
    _run_script(connection, "_outcomes.sql", {**parameters, **window}, create_macros=create, set_up=set_up)
    _run_script(connection, "_claims.sql", window, create_macros=create, set_up=set_up)
    if create:
        connection.execute("SET VARIABLE halo_h_macro_set = $name", {"name": _macro_set()})
    return set_up.skipped


def _leave_out(set_up: _SetUp, flags: Mapping[str, Any]) -> None:
    """Mark the guarded tables whose flag (one of `flags`) is FALSE as skipped or to be made empty."""
    set_up.skipped.update(name for name, flag in _SKIPPED_UNLESS.items() if flag in flags and not flags[flag])
    set_up.empty.update(name for name, flag in _EMPTY_UNLESS.items() if flag in flags and not flags[flag])


def _applicable(
    connection: duckdb.DuckDBPyConnection, skipped: set[str], parameters: Mapping[str, Any]
) -> list[str]:
    """The categories whose detector can find anything: not one reading a set-up table that was not
    built, nor one whose necessary condition in _applicable.sql is FALSE."""
    conditions: dict[str, bool] = {}
    for row in stored_rows(_execute(connection, sql_text("heuristics/_applicable.sql"), parameters)):  # a category runs when one of its rows holds
        conditions[row["category"]] = conditions.get(row["category"], False) or bool(row["applicable"])
    return [
        category for category in CATEGORIES
        if conditions.get(category, True) and not _tables_read(_detector_sql(category)) & skipped
    ]


@cache
def _detector_sql(category: str) -> str:
    return detector_files()[category].read_text(encoding="utf-8")


def _cleanup(connection: duckdb.DuckDBPyConnection) -> None:
    for name in _TEMP_TABLES:
        connection.execute(f"DROP TABLE IF EXISTS temp.{name}")


def _number(value: Any, digits: int) -> float | None:
    if value is None:
        return None
    number = float(value)
    if not math.isfinite(number):
        return None
    return round(number, digits)


def _fix_target(category: str, subject: str | None, detail: dict[str, Any], agent_name: str | None) -> FixTarget:
    """What a detector named in detail.fixTarget (failures), else its registry default: a kind, or
    `subject` (the subject's own component: a tool, a model, else the agent)."""
    named = FixTarget.from_json(detail.pop("fixTarget", None))
    if named is not None:
        return named
    kind = detector(category).fix_kind
    if kind == "subject":
        kind = {"tool": "tool", "llm": "model", "embedding": "model"}.get(str(detail.get("spanType") or ""), "agent")
    if kind == "agent":
        return FixTarget(kind, agent_name)
    if kind == "instrumentation":
        return FixTarget(kind, None)
    return FixTarget(kind, subject)


def _finding(row: Mapping[str, Any], agent_uuid: str, agent_name: str | None) -> Finding:
    detail = row["detail"]
    if isinstance(detail, str):
        detail = json.loads(detail)
    detail = dict(detail or {})
    subject = None if row["subject"] is None else str(row["subject"])
    return Finding(
        category=str(row["category"]),
        severity=str(row["severity"]),
        title=str(row["title"]),
        subject=subject,
        agent_uuid=agent_uuid,
        metric=str(row["metric"]),
        value=_number(row["value"], 6),
        baseline=_number(row["baseline"], 6),
        affected_traces=int(row["affected_traces"] or 0),
        affected_spans=int(row["affected_spans"] or 0),
        trace_share=_number(row["trace_share"], 4) or 0.0,
        span_share=_number(row["span_share"], 4) or 0.0,
        impact_seconds=_number(row["impact_seconds"], 3) or 0.0,
        impact_usd=_number(row["impact_usd"], 6),
        failed_traces=int(row["failed_traces"] or 0),
        first_seen=row["first_seen"],
        last_seen=row["last_seen"],
        example_trace_ids=tuple(row["example_trace_ids"] or ())[:MAX_EXAMPLES],
        affected_trace_ids=tuple(dict.fromkeys(row["example_trace_ids"] or ())),
        example_span_ids=tuple(row["example_span_ids"] or ())[:MAX_EXAMPLES],
        fix_target=_fix_target(str(row["category"]), subject, detail, agent_name),
        detail=detail,
    )


def _run_detector(
    connection: duckdb.DuckDBPyConnection, category: str, parameters: Mapping[str, Any], agent_uuid: str,
    agent_name: str | None,
) -> list[Finding]:
    cursor = _execute(connection, _detector_sql(category), parameters)
    columns = tuple(item[0] for item in cursor.description)
    if columns != FINDING_COLUMNS:
        raise RuntimeError(f"detector {category}.sql returns {columns}, not the findings shape")
    findings = [_finding(dict(zip(columns, row, strict=True)), agent_uuid, agent_name) for row in cursor.fetchall()]
    for finding in findings:
        if finding.category != category or finding.severity not in SEVERITIES:
            raise RuntimeError(f"detector {category}.sql returned {finding.category}/{finding.severity}")
    return findings


def analyze(
    connection: duckdb.DuckDBPyConnection,
    *,
    agent_uuid: str,
    table: str = "window_spans",
    previous_table: str | None = None,
    thresholds: Thresholds | None = None,
) -> Analysis:
    """Run every detector over `table` (spans columns; only `agent_uuid`'s rows are read) and
    return ranked findings, what each check covered, and summary statistics."""
    thresholds = thresholds or Thresholds()
    parameters = thresholds.as_parameters()
    try:
        skipped = _prepare(connection, agent_uuid=agent_uuid, table=table, previous_table=previous_table,
                           parameters=parameters)
        findings: list[Finding] = []
        agent_name = _agent_name(connection, table, agent_uuid)
        for category in _applicable(connection, skipped, parameters):
            findings.extend(_run_detector(connection, category, parameters, agent_uuid, agent_name))
        outcomes = _fetch_dicts(connection, "_outcome_rows.sql")
        ranked = rank_findings(weigh_outcomes(findings, outcomes, thresholds))
        coverage = _coverage(connection)
        stats = _stats(connection)
    finally:
        _cleanup(connection)
    return Analysis(findings=ranked, checks=_checks(coverage, ranked), stats=stats, outcomes=outcomes)


def find_findings(
    connection: duckdb.DuckDBPyConnection,
    *,
    agent_uuid: str,
    table: str = "window_spans",
    previous_table: str | None = None,
    thresholds: Thresholds | None = None,
) -> list[Finding]:
    """Findings ranked by impact, in a deterministic order (see the module docstring)."""
    return analyze(
        connection, agent_uuid=agent_uuid, table=table, previous_table=previous_table, thresholds=thresholds
    ).findings


def healthy_checks(
    connection: duckdb.DuckDBPyConnection,
    *,
    agent_uuid: str,
    table: str = "window_spans",
    findings: Sequence[Finding] = (),
) -> list[CheckResult]:
    """One CheckResult per category, in `CATEGORIES` order, given the findings already made.
    `analyze()` returns the same list without reading the window twice."""
    try:
        _prepare(connection, agent_uuid=agent_uuid, table=table, previous_table=None,
                 parameters=Thresholds().as_parameters())
        coverage = _coverage(connection)
    finally:
        _cleanup(connection)
    return _checks(coverage, findings)


def _agent_name(connection: duckdb.DuckDBPyConnection, table: str, agent_uuid: str) -> str | None:
    """The agent's name, what a finding whose fix is the agent's names it by."""
    rows = connection.execute(
        "SELECT agent_name FROM query_table($table) WHERE agent_uuid = $agent_uuid AND agent_name IS NOT NULL LIMIT 1",
        {"table": table, "agent_uuid": agent_uuid},
    ).fetchall()
    return str(rows[0][0]) if rows else None


def _fetch_dicts(connection: duckdb.DuckDBPyConnection, name: str) -> list[dict[str, Any]]:
    sql = (resource_dir("sql") / "heuristics" / name).read_text(encoding="utf-8")
    return stored_rows(connection.execute(sql))


def _coverage(connection: duckdb.DuckDBPyConnection) -> dict[str, int]:
    rows = _fetch_dicts(connection, "_coverage.sql")
    return {name: int(value or 0) for name, value in rows[0].items()}


def _json_figure(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float):
        return round(value, 6) if math.isfinite(value) else None
    if isinstance(value, datetime):
        return iso(value)
    return value


def _stats(connection: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Latency percentiles per subject and cost per model and per trace (camelCase keys)."""

    def rows(name: str) -> list[dict[str, Any]]:
        return [{camel_case(key): _json_figure(value) for key, value in row.items()} for row in _fetch_dicts(connection, name)]

    cost_rows = rows("_stats_cost.sql")
    return {
        "latency": rows("_stats_latency.sql"),
        "costByModel": [row for row in cost_rows if row["scope"] == "model"],
        "costlyTraces": [row for row in cost_rows if row["scope"] == "trace"],
    }


def _checks(coverage: Mapping[str, int], findings: Sequence[Finding]) -> list[CheckResult]:
    counts = {category: 0 for category in CATEGORIES}
    for finding in findings:
        counts[finding.category] = counts.get(finding.category, 0) + 1
    results = []
    for category in CATEGORIES:
        entry = detector(category)
        unit, singular, healthy, missing = entry.unit, entry.singular, entry.healthy, entry.missing
        checked = int(coverage.get(entry.counter, 0))
        counted = f"{checked} {singular if checked == 1 else unit}"
        if counts[category]:
            status = "findings"
            note = f"{counts[category]} finding{'s' if counts[category] != 1 else ''}"
            if checked:  # a count of 0 beside a finding would contradict it
                note += f" over {counted}"
        elif checked == 0:
            status = "not_applicable"
            note = f"nothing to check: {missing}"
        else:
            status = "healthy"
            note = f"{counted} checked: {healthy}"
            if category == "unknown_tool" and not coverage.get("declared_tool_spans"):
                note += " (no tool declarations recorded, so only not-found failures were checked)"
            if category == "empty_output" and not coverage.get("llm_with_output"):
                note += " (no output text recorded, so only zero-token outputs were checked)"
        results.append(CheckResult(category, status, counts[category], checked, unit, note))
    return results

