"""How query results leave the database: camelCase keys and JSON-ready values."""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from datetime import datetime
from decimal import Decimal
from typing import Any

import duckdb

from halo_local.common.timestamps import iso

SPAN_JSON_COLUMNS = frozenset({"attributes", "resource_attributes", "events", "links"})
_SNAKE_JOINT = re.compile(r"_([a-z0-9])")


def camel_case(name: str) -> str:
    """`first_seen_at` -> `firstSeenAt`: the key style of every JSON document."""
    return _SNAKE_JOINT.sub(lambda match: match.group(1).upper(), name)


def json_cell(value: Any) -> Any:
    """A DuckDB cell as JSON can carry it: timestamps as ISO text, decimals as floats."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Decimal):
        return float(value)
    return value


def rows_as_dicts(
    cursor: duckdb.DuckDBPyConnection, *, json_columns: Collection[str] = SPAN_JSON_COLUMNS
) -> list[dict[str, Any]]:
    """Every row of an executed DuckDB cursor as a camelCase dict with JSON-ready values.

    Columns named in `json_columns` hold JSON text and are parsed.
    """
    names = [column[0] for column in cursor.description or ()]
    result = []
    for row in cursor.fetchall():
        item = {}
        for name, value in zip(names, row, strict=True):
            parsed = json.loads(value) if name in json_columns and isinstance(value, str) else value
            item[camel_case(name)] = json_cell(parsed)
        result.append(item)
    return result


def stored_rows(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Every row of an executed DuckDB cursor as a dict keyed by column name, values as stored."""
    names = [column[0] for column in cursor.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
