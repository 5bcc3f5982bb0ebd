"""One mapping, two dialects: ClickHouse expressions over `SpanAttributes` generated from attribute_map.

The attribute mapping (sql/normalize/mapping.sql) is data; DuckDB applies it in ingest/normalize.py.
Here the same rows become the ClickHouse columns of the canonical fields the cluster needs (span type,
model, provider, usage, tool, agent names), each a coalesce over its candidates in priority order. The
SQL's shape lives in sql/clickhouse/_mapping.sql; this module only chooses the data: which rules, keys
and casts.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import duckdb

from halo_local.resources import sql_text

# The fields the ClickHouse queries compute, with the cast (by name, see _mapping.sql) each gets.
FIELD_CASTS = {
    "span_type": "text", "model": "text", "provider_raw": "text", "input_tokens": "int", "output_tokens": "int",
    "cache_read_tokens": "int", "cache_write_tokens": "int", "cost_usd": "decimal", "tool_name": "text",
    "declared_agent": "text", "agent_span_label": "text", "langfuse_level": "text",
}
_EVENT_PREFIX = "event:"
# The transforms _mapping.sql's candidate macro writes (tool_names and event keys feed no cluster field).
_CLICKHOUSE_TRANSFORMS = frozenset({"text", "int", "decimal", "regex", "first", "json_text", "json_int",
                                    "json_decimal", "langfuse_total", "span_type"})


class MappingRule(NamedTuple):
    """One attribute_map row."""

    field: str
    priority: int
    attribute_key: str
    transform: str
    argument: str | None


class Candidate(NamedTuple):
    """What _mapping.sql's candidate macro needs of a rule: its key (`@name`, `@status_message` or an
    attribute), transform and argument, and for span_type rules the key's span_type_values (exact
    values, and the span type of any value)."""

    key: str
    transform: str
    argument: str | None
    span_types: tuple[tuple[str, str], ...]
    any_span_type: str | None


class MappedField(NamedTuple):
    """One generated column: its name, cast name and candidates in priority order."""

    name: str
    cast: str
    candidates: tuple[Candidate, ...]


class UnsupportedRule(ValueError):
    """A mapping rule whose transform has no ClickHouse form (only fields the cluster needs are generated)."""


@functools.cache
def mapping_rules() -> tuple[tuple[MappingRule, ...], tuple[tuple[str, str, str], ...], tuple[tuple[str, str], ...]]:
    """(attribute_map rules, span_type_values rows, usage_wrappers pairs), read from mapping.sql."""
    with duckdb.connect() as connection:
        connection.execute(sql_text("normalize/mapping.sql"))
        rules = tuple(MappingRule(*row) for row in connection.execute(
            "SELECT field, priority, attribute_key, transform, argument FROM attribute_map"
            " ORDER BY field, priority, attribute_key, transform, argument").fetchall())
        span_types = tuple(connection.execute(
            "SELECT attribute_key, value, span_type FROM span_type_values ORDER BY ALL").fetchall())
        wrappers = tuple(connection.execute(
            "SELECT wrapper_name, inner_name FROM usage_wrappers ORDER BY ALL").fetchall())
    return rules, span_types, wrappers


@functools.cache
def mapped_fields(fields: tuple[str, ...] = tuple(FIELD_CASTS)) -> tuple[MappedField, ...]:
    """The mapping's candidates of `fields` for _mapping.sql's mapped_columns macro (once per process)."""
    rules, span_type_rows, _ = mapping_rules()
    return tuple(MappedField(field, FIELD_CASTS[field], tuple(
        _candidate(rule, span_type_rows) for rule in rules
        if rule.field == field and not rule.attribute_key.startswith(_EVENT_PREFIX) and "*" not in rule.attribute_key))
        for field in fields)


def usage_wrappers() -> tuple[tuple[str, str], ...]:
    """(wrapper, inner) span names of the mapping's usage_wrappers."""
    return mapping_rules()[2]


def _candidate(rule: MappingRule, span_type_rows: tuple[tuple[str, str, str], ...]) -> Candidate:
    if rule.transform not in _CLICKHOUSE_TRANSFORMS:
        raise UnsupportedRule(f"attribute_map transform {rule.transform!r} ({rule.field}) has no ClickHouse form")
    values = [(value, span_type) for key, value, span_type in span_type_rows
              if key == rule.attribute_key and rule.transform == "span_type"]
    return Candidate(
        key=rule.attribute_key, transform=rule.transform, argument=rule.argument,
        span_types=tuple((value, span_type) for value, span_type in values if value != "*"),
        any_span_type=next((span_type for value, span_type in values if value == "*"), None))
