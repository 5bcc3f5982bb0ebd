"""Locate the files that ship beside the code: `sql/`, `prompts/` and `sample_traces/`.

In a source checkout (and an editable install) they sit at the repository root; a wheel carries
them inside the package under `_resources/`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

_PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """Return the directory `name` (sql, prompts, sample_traces), wherever it was installed."""
    for candidate in (_PACKAGE_DIR.parent / name, _PACKAGE_DIR / "_resources" / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"halo-local resource folder {name!r} is missing from the installation")


@cache
def sql_text(relative: str) -> str:
    """Text of one SQL file under `sql/`, e.g. `sql_text("heuristics/error.sql")`; read once per process (a
    one-file load reads ~35 of them)."""
    return (resource_dir("sql") / relative).read_text(encoding="utf-8")


def clickhouse_string(value: str) -> str:
    """`value` as a ClickHouse string literal: the one way a value from data enters generated ClickHouse SQL."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@cache
def _sql_environment() -> Environment:
    environment = Environment(loader=FileSystemLoader(resource_dir("sql")), undefined=StrictUndefined,
                              keep_trailing_newline=True, autoescape=False)
    environment.filters["clickhouse_string"] = clickhouse_string
    return environment


def sql_template(relative: str, **context: object) -> str:
    """SQL whose shape varies (generated columns, optional tests) or that shares a macro
    (`{% from "spans/_redaction.sql" import ... %}`), rendered from a Jinja file under `sql/`;
    values never go into the text: they stay `$params`."""
    return _sql_environment().get_template(relative).render(**context)
