"""One mapping, two dialects: ClickHouse expressions over `SpanAttributes` generated from attribute_map.

The attribute mapping (sql/normalize/mapping.sql) is data; DuckDB applies it in ingest/normalize.py.
Here the same rows become ClickHouse expressions for the canonical fields the cluster needs (span
type, model, provider, usage, tool, agent names), each a coalesce over its candidates in priority
order with every key, pattern and path a server-side parameter. The exporter stores every attribute
value as a string (arrays and objects as JSON text), which is what the DuckDB transforms read as text.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import duckdb

from halo_local.resources import sql_text

# The fields the ClickHouse queries compute, with the ClickHouse type each is cast to.
FIELD_TYPES = {
    "span_type": "Nullable(String)", "model": "Nullable(String)", "provider_raw": "Nullable(String)",
    "input_tokens": "Nullable(Int64)", "output_tokens": "Nullable(Int64)", "cache_read_tokens": "Nullable(Int64)",
    "cache_write_tokens": "Nullable(Int64)", "cost_usd": "Nullable(Decimal(38, 10))",
    "tool_name": "Nullable(String)", "declared_agent": "Nullable(String)", "agent_span_label": "Nullable(String)",
    "langfuse_level": "Nullable(String)",
}
_EVENT_PREFIX = "event:"


class MappingRule(NamedTuple):
    """One attribute_map row."""

    field: str
    priority: int
    attribute_key: str
    transform: str
    argument: str | None


@dataclass(frozen=True)
class GeneratedFields:
    """`columns`: `expr AS field` lines for a SELECT over the exporter's table; `parameters`: their
    server-side values (`{pN:String}` placeholders); `usage_wrappers`: (wrapper, inner) span names."""

    columns: tuple[str, ...]
    parameters: dict[str, object]
    usage_wrappers: tuple[tuple[str, str], ...]


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
def generated_fields(fields: tuple[str, ...] = tuple(FIELD_TYPES)) -> GeneratedFields:
    """The ClickHouse SELECT columns of `fields`, generated from the mapping (once per process)."""
    rules, _, wrappers = mapping_rules()
    parameters: dict[str, object] = {}

    def parameter(value: str) -> str:
        name = f"p{len(parameters)}"
        parameters[name] = value
        return f"{{{name}:String}}"

    columns = []
    for field in fields:
        candidates = [_candidate(rule, parameter) for rule in rules
                      if rule.field == field and not rule.attribute_key.startswith(_EVENT_PREFIX)
                      and "*" not in rule.attribute_key]
        expression = f"coalesce({', '.join(candidates)})" if candidates else "NULL"
        columns.append(f"CAST({expression} AS {FIELD_TYPES[field]}) AS {field}")
    return GeneratedFields(columns=tuple(columns), parameters=parameters, usage_wrappers=wrappers)


def _source_text(rule: MappingRule, parameter: Callable[[str], str]) -> str:
    """The rule key's value as text on one row of the exporter's table; NULL when absent or empty."""
    if rule.attribute_key == "@name":
        return "nullIf(SpanName, '')"
    if rule.attribute_key == "@status_message":
        return "if(lower(StatusCode) IN ('error', 'status_code_error'), nullIf(StatusMessage, ''), NULL)"
    return f"nullIf(SpanAttributes[{parameter(rule.attribute_key)}], '')"


# Conversions of the DuckDB normalizer (normalize/macros.sql) in ClickHouse: norm_int accepts "190" and
# "190.0" (rounded as DuckDB casts a decimal), norm_decimal accepts "2.5e-05".
_INT = "coalesce(toInt64OrNull({text}), toInt64OrNull(toString(round(toDecimal128OrNull({text}, 6)))))"
_DECIMAL = ("coalesce(toDecimal128OrNull({text}, 10),"
            " toDecimal128OrNull(toString(toFloat64OrNull({text})), 10))")


def _candidate(rule: MappingRule, parameter: Callable[[str], str]) -> str:
    """The ClickHouse SQL of one candidate, as ingest/normalize.py's _TRANSFORM_SQL is for DuckDB."""
    text = _source_text(rule, parameter)
    argument = parameter(rule.argument) if rule.argument is not None else "NULL"
    transform = rule.transform
    if transform == "text":
        return text
    if transform == "int":
        return _INT.format(text=text)
    if transform == "decimal":
        return _DECIMAL.format(text=text)
    if transform == "regex":
        return f"nullIf(extract({text}, {argument}), '')"
    if transform == "first":
        return (f"if(isValidJSON({text}) AND JSONType({text}) = 'Array',"
                f" nullIf(JSONExtractString({text}, 1), ''), {text})")
    if transform in ("json_text", "json_int", "json_decimal"):
        value = f"nullIf(JSON_VALUE({text}, {argument}), '')"
        return {"json_text": value, "json_int": _INT.format(text=value),
                "json_decimal": _DECIMAL.format(text=value)}[transform]
    if transform == "langfuse_total":
        return _langfuse_total(text, rule.argument or "")
    if transform == "span_type":
        found = f"lower({text})" if rule.argument is None else f"lower(nullIf(extract({text}, {argument}), ''))"
        return _span_type_of(rule.attribute_key, found, parameter)
    raise UnsupportedRule(f"attribute_map transform {transform!r} ({rule.field}) has no ClickHouse form")


def _span_type_of(attribute_key: str, found: str, parameter: Callable[[str], str]) -> str:
    """span_type_values looked up for one key: the value's own row, else the key's '*' row."""
    rows = [(value, span_type) for key, value, span_type in mapping_rules()[1] if key == attribute_key]
    exact = [(value, span_type) for value, span_type in rows if value != "*"]
    any_value = next((span_type for value, span_type in rows if value == "*"), None)
    values = "[" + ", ".join(parameter(value) for value, _ in exact) + "]"
    types = "[" + ", ".join(parameter(span_type) for _, span_type in exact) + "]"
    lookup = f"nullIf(transform({found}, {values}, {types}, ''), '')" if exact else "NULL"
    fallback = parameter(any_value) if any_value is not None else "NULL"
    return f"if({found} IS NULL, NULL, coalesce({lookup}, {fallback}))"


def _langfuse_total(text: str, direction: str) -> str:
    """norm_langfuse_total: usage_details[direction] plus its detail keys (and, for input, the cache keys)."""
    base = _INT.format(text=f"nullIf(JSON_VALUE({text}, '$.{direction}'), '')")
    extra = " OR pair.1 IN ('cache_read_input_tokens', 'cache_creation_input_tokens')" if direction == "input" else ""
    detail = _INT.format(text="trim(BOTH '\"' FROM pair.2)")
    return (f"if(isValidJSON({text}) AND JSONType({text}) = 'Object' AND {base} IS NOT NULL,"
            f" {base} + arraySum(arrayMap(pair -> ifNull({detail}, 0), arrayFilter(pair ->"
            f" startsWith(pair.1, '{direction}_'){extra}, JSONExtractKeysAndValuesRaw(ifNull({text}, ''))))), NULL)")

