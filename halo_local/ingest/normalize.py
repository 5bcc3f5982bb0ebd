"""raw_spans → spans: canonical columns, then the columns that need a whole trace.

Which attribute fills which column is data, not code: `sql/normalize/mapping.sql` lists every
convention's keys with a priority. From that table, `extract_plain.sql` is completed once per process
into one SELECT (each column a coalesce over its candidates, one parse of the attributes per span);
`extract_fields.sql` applies the table relationally to the few spans with indexed keys or events.
Python only orchestrates the SQL files and asks genai-prices and uuid5 about the few distinct
providers, models and agents — never anything per span.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple, TypeVar

import duckdb
import pyarrow as pa

from halo_local import redact
from halo_local.common.agents import agent_uuid_for
from halo_local.ingest.readers import FILE_LINE_STRIDE
from halo_local.ingest.store_writer import StoreWriter
from halo_local.pricing import load_price_tables, provider_id_for
from halo_local.resources import sql_template, sql_text

_AGENT_NAME_FIELDS = ["declared_agent", "agent_span_label"]
T = TypeVar("T")
NORMALIZE_CHUNK_SPANS = 100_000  # spans mapped per statement: bounds the memory a large file needs
KNOWN_KEYS_VARIABLE = "normalize_known_attribute_keys"
"""A DuckDB variable the one-pass loader sets on its scratch connection: the attribute keys the spans of
raw_spans hold (a superset does too), as Arrow's parse found them, or NULL. Set, `_extract_fields` takes
it instead of listing every span's keys with present_keys.sql (a parse of every attributes text)."""
NO_INDEXED_KEYS_VARIABLE = "normalize_no_indexed_keys"
"""Set TRUE by the one-pass loader when no line of raw_spans' spans names an indexed key's prefix, even in a
value (`indexed_key_prefixes`): `_extract_fields` then leaves out the search of every span's attributes for
them (needs_generic), which could find none."""
PRESENT_KEYS_SPANS = 2_000
"""Up to this many spans, the field extraction is generated for the attribute keys they hold only."""
_DERIVED_TABLES = ("derive_spans", "derived_agents", "agent_uuids", "derived_usage", "price_candidates",
                   "price_rules", "price_rates", "derived_cost", "derived_columns")
_CHUNK_TABLES = ("normalize_fields", "normalize_fields_generic", "normalize_generic_input", "normalize_providers",
                 "normalize_typed", *_DERIVED_TABLES)
_INSERT_TABLES = ("normalize_input", "normalize_new", "normalize_stored_traces", *_CHUNK_TABLES)
_DERIVE_TABLES = ("normalize_input", "normalize_fields", "normalize_fields_generic", "normalize_generic_input",
                  "normalize_agent_fields", *_DERIVED_TABLES)


@dataclass(frozen=True)
class NormalizeResult:
    """What insert_normalized stored: new spans, spans already stored (or repeated), the traces of new
    spans whose derived columns it left to derive_trace_columns (`underived_trace_ids`), and per file of
    the part (its index in `source_files`): the new spans (`spans_new_by_file`) and every trace it holds,
    new or duplicate (`held_by_file`: what the file is recorded as holding)."""

    spans_new: int
    duplicates: int
    underived_trace_ids: list[str]
    spans_new_by_file: dict[int, int]
    held_by_file: dict[int, list[str]]


def insert_normalized(
    connection: duckdb.DuckDBPyConnection,
    *,
    source_files: Sequence[str],
    scratch: duckdb.DuckDBPyConnection | None = None,
    present_keys_only: bool = False,
    writer: StoreWriter | None = None,
) -> NormalizeResult:
    """Store the raw_spans rows not stored yet, with their canonical columns.

    raw_spans may hold several files, told apart by source_line (readers.FILE_LINE_STRIDE): file i is
    `source_files[i]`, read before file i + 1. A span whose (trace_id, span_id) is stored already, or
    appears earlier in the same file or an earlier one, is a duplicate: counted, not stored again.
    Agent, counts_usage and computed cost are derived before the insert, from the narrow columns, for
    the traces that allows (derive_fresh.sql: the common case, a trace the store held nothing of);
    the caller runs derive_trace_columns on the others, `underived_trace_ids`, after the whole file.

    raw_spans and every working table live on `scratch` (default: `connection`, the store's); only the
    finished rows cross to `connection`, as Arrow. A scratch database outside the store's transaction
    frees its working tables as soon as they are dropped, where the transaction would keep them all.
    `present_keys_only` renders the extraction per chunk for the attribute keys it holds (one more
    statement, worth it for large chunks: onepass). With `writer` (on `connection`, which is then the
    writer's alone), the writes into the store run on the writer's thread, and the store is read through
    `writer.committed` together with the keys the file's earlier parts stored (store_writer.py).
    """
    scratch = connection if scratch is None else scratch
    _install_mapping(scratch)
    spans_read = _count(scratch, "raw_spans")
    stride = {"stride": FILE_LINE_STRIDE}
    held_by_file = dict(scratch.execute(sql_text("normalize/held_traces.sql"), stride).fetchall())
    stored, stored_traces, distinct_keys = _stored_keys(connection, scratch, writer)
    _create_from_arrow(scratch, "normalize_stored_traces", stored_traces)
    _with_arrow(scratch, "normalize_stored", stored,
                lambda: scratch.execute(_select_new_sql(repeated=distinct_keys < spans_read)))
    if writer is not None:
        scratch.execute(sql_text("normalize/remember_file_keys.sql"))
    spans_new = _count(scratch, "normalize_new")
    spans_new_by_file = dict(scratch.execute(sql_text("normalize/new_per_file.sql"), stride).fetchall())
    row_parameters = {"source_files": list(source_files), "secret_rules": redact.rules_fingerprint(), **stride}
    scratch.execute(sql_text("normalize/agent_fields_table.sql"))
    store = _Store(connection, writer)
    store.write(sql_text("normalize/agent_fields_table.sql"))
    store.write(redact.sql_macro())  # the insert makes each new span's secret verdict (insert_spans.sql)
    underived: set[str] = set()
    for first in range(1, spans_new + 1, NORMALIZE_CHUNK_SPANS):
        scratch.execute("SET VARIABLE normalize_chunk_first = ?", [first])
        scratch.execute("SET VARIABLE normalize_chunk_last = ?", [first + NORMALIZE_CHUNK_SPANS - 1])
        _extract_fields(scratch, None, present_keys_only=present_keys_only)
        _resolve_providers(scratch)
        scratch.execute(sql_text("normalize/normalize_typed.sql"))
        scratch.execute(sql_text("normalize/derive_fresh.sql"))
        _derive_columns(scratch, in_store=False)
        agent_fields = scratch.sql(sql_text("normalize/underived_agent_fields.sql")).to_arrow_table()
        underived.update(agent_fields.column("trace_id").to_pylist())
        rows = scratch.sql(sql_text("normalize/normalized_rows.sql"), params=row_parameters).to_arrow_table()
        _drop(scratch, _CHUNK_TABLES)
        if writer is not None:
            writer.wait()  # the previous writes ran while this chunk was read and normalized: one in flight
        if agent_fields.num_rows:
            store.write(sql_text("normalize/remember_agent_fields.sql"), "normalize_row_agents", agent_fields)
        del agent_fields
        store.write(sql_template("normalize/insert_spans.sql"), "normalize_rows", rows)
        del rows
    _drop(scratch, _INSERT_TABLES)
    return NormalizeResult(spans_new=spans_new, duplicates=spans_read - spans_new,
                           underived_trace_ids=sorted(underived), spans_new_by_file=spans_new_by_file,
                           held_by_file=held_by_file)


def _stored_keys(connection: duckdb.DuckDBPyConnection, scratch: duckdb.DuckDBPyConnection,
                 writer: StoreWriter | None) -> tuple[pa.Table, pa.Table, int]:
    """The keys of raw_spans the store holds, the traces of raw_spans it holds a span of (with `writer`:
    as committed before the file, and stored by the file's earlier parts), and how many distinct keys
    raw_spans holds."""
    raw_keys = scratch.sql(sql_text("normalize/raw_keys.sql")).to_arrow_table()
    reader = connection if writer is None else writer.committed
    stored, stored_traces = _with_arrow(reader, "normalize_keys", raw_keys, lambda: (
        reader.sql(sql_text("normalize/stored_keys.sql")).to_arrow_table(),
        reader.sql(sql_text("normalize/stored_traces.sql")).to_arrow_table()))
    if writer is None:
        return stored, stored_traces, raw_keys.num_rows
    if writer.begin_part() == 1:
        scratch.execute(sql_text("normalize/file_keys_table.sql"))
    earlier, earlier_traces = _with_arrow(scratch, "normalize_keys", raw_keys, lambda: (
        scratch.sql(sql_text("normalize/earlier_keys.sql")).to_arrow_table(),
        scratch.sql(sql_text("normalize/earlier_traces.sql")).to_arrow_table()))
    return pa.concat_tables([stored, earlier]), pa.concat_tables([stored_traces, earlier_traces]), raw_keys.num_rows


@functools.cache
def _select_new_sql(*, repeated: bool) -> str:
    """select_new_spans.sql rendered, once per process and value of `repeated` (whether a key of raw_spans
    appears twice: without, each row is its key's first occurrence)."""
    return sql_template("normalize/select_new_spans.sql", repeated=repeated)


@dataclass(frozen=True)
class _Store:
    """Where insert_normalized writes into the store: on `connection`, or through `writer`'s thread."""

    connection: duckdb.DuckDBPyConnection
    writer: StoreWriter | None

    def write(self, statement: str, name: str | None = None, table: pa.Table | None = None) -> None:
        """Run `statement`, reading `table` once as `name` when given (the caller must not keep it)."""
        if self.writer is not None:
            self.writer.submit(statement, name, table)
        elif name is None or table is None:
            self.connection.execute(statement)
        else:
            _read_once(self.connection, name, table, statement)


def indexed_key_prefixes(connection: duckdb.DuckDBPyConnection) -> tuple[str, ...]:
    """The prefixes of attribute_map's indexed keys (`llm.input_messages.` of llm.input_messages.*...):
    a span whose attributes' text holds one, quoted, takes extract_fields.sql (needs_generic)."""
    _install_mapping(connection)
    return tuple(row[0] for row in connection.execute(
        "SELECT DISTINCT split_part(attribute_key, '*', 1) AS prefix FROM attribute_map"
        " WHERE contains(attribute_key, '*') ORDER BY prefix").fetchall())


def _count(connection: duckdb.DuckDBPyConnection, table: str) -> int:
    """Rows of a working table, read to the end (DuckDB 2.0 blocks a connection with a half-read result)."""
    return int(connection.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])


def _with_arrow(connection: duckdb.DuckDBPyConnection, name: str, table: pa.Table, work: Callable[[], T]) -> T:
    """Run `work` with the (small) `table` readable as `name` on `connection`, named explicitly rather than
    found by DuckDB's replacement scan of the caller's local variables."""
    connection.register(name, table)
    try:
        return work()
    finally:
        connection.unregister(name)


def _read_once(connection: duckdb.DuckDBPyConnection, name: str, table: pa.Table, statement: str) -> None:
    """Run `statement`, which reads `name` once, with `table` readable as `name` on `connection`.

    Registered as a one-pass stream that lets go of each record batch once read: inside the store's
    transaction an unregistered view, and whatever it refers to, is kept until commit, so a registered
    table would hold every part of a large file at once; an exhausted stream holds nothing (the caller
    must not keep `table` either)."""
    stream = pa.RecordBatchReader.from_batches(table.schema, iter(table.to_batches()))
    del table
    connection.register(name, stream)
    try:
        connection.execute(statement)
    finally:
        connection.unregister(name)


def derive_trace_columns(connection: duckdb.DuckDBPyConnection, trace_ids: Sequence[str]) -> None:
    """Recompute agent_name, agent_uuid, counts_usage, cost_usd and cost_source of every stored span
    of these traces, so that spans loaded from earlier files are seen together with new ones."""
    if not trace_ids:
        return
    _install_mapping(connection)
    connection.execute(sql_text("normalize/derive_input.sql"), {"trace_ids": list(trace_ids)})
    connection.execute(sql_text("normalize/agent_fields_table.sql"))
    connection.execute(sql_text("normalize/derive_input_view.sql"))
    _extract_fields(connection, _AGENT_NAME_FIELDS)
    _derive_columns(connection, in_store=True)
    connection.execute(sql_text("normalize/apply_derived.sql"))
    _drop(connection, _DERIVE_TABLES)


def _derive_columns(connection: duckdb.DuckDBPyConnection, *, in_store: bool) -> None:
    """TEMP table derived_columns: agent, counts_usage, cost and span type of every span of derive_spans,
    from its narrow columns and the agent-name fields of normalize_fields / normalize_agent_fields.
    `in_store`: `connection` is the store's (the usage of wrappers may look into other traces there)."""
    connection.execute(sql_text("normalize/derive_agents.sql"))
    _register_agent_uuids(connection)
    connection.execute(_derive_usage_sql(in_store))
    connection.execute(sql_text("normalize/price_candidates.sql"))
    load_price_tables(connection, connection.execute(sql_text("normalize/price_models.sql")).fetchall())
    connection.execute(sql_text("normalize/price.sql"))
    connection.execute(sql_text("normalize/derived_columns.sql"))


@functools.cache
def _derive_usage_sql(in_store: bool) -> str:
    """derive_usage.sql rendered, once per process and value of `in_store`."""
    return sql_template("normalize/derive_usage.sql", in_store=in_store)


_MAPPING_TABLES = ("attribute_map", "span_type_values", "usage_wrappers", "provider_aliases")


def _install_mapping(connection: duckdb.DuckDBPyConnection) -> None:
    """The mapping tables and macros, once per connection (the loader calls insert then derive).

    The tables are copied from `_mapping_tables`' Arrow, which costs a third of running mapping.sql's
    ~200 VALUES rows again (6 against 15 ms of CPU, twice per file loaded)."""
    (installed,) = connection.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = 'provider_aliases'").fetchall()[0]
    if installed:
        return
    connection.execute(sql_text("normalize/macros.sql"))
    for name, table in _mapping_tables().items():
        _create_from_arrow(connection, name, table)


@functools.cache
def _mapping_tables() -> dict[str, pa.Table]:
    """mapping.sql's tables, as it makes them, read once per process."""
    with duckdb.connect() as connection:
        connection.execute(sql_text("normalize/mapping.sql"))
        return {name: connection.sql(f"SELECT * FROM {name}").to_arrow_table() for name in _MAPPING_TABLES}


class _Rule(NamedTuple):
    """One attribute_map row."""

    field: str
    priority: int
    attribute_key: str
    transform: str
    argument: str | None


# The columns of normalize_fields (both extraction paths), with the type each is stored as.
_FIELD_TYPES = {
    "span_type": "VARCHAR", "session_id": "VARCHAR", "provider_raw": "VARCHAR", "model": "VARCHAR",
    "input_tokens": "BIGINT", "output_tokens": "BIGINT", "cache_read_tokens": "BIGINT",
    "cache_write_tokens": "BIGINT", "cost_usd": "DECIMAL(18, 10)", "tool_name": "VARCHAR",
    "tool_arguments": "VARCHAR", "tool_result": "VARCHAR", "declared_tools": "VARCHAR[]",
    "finish_reason": "VARCHAR", "error_type": "VARCHAR", "error_message": "VARCHAR", "input_text": "VARCHAR",
    "output_text": "VARCHAR", "declared_agent": "VARCHAR", "agent_span_label": "VARCHAR",
    "langfuse_level": "VARCHAR",
}
_EVENT_PREFIX = "event:"
_JSON_TRANSFORMS = {"first", "json_text", "json_int", "json_decimal", "langfuse_total", "tool_names"}


def _extract_fields(connection: duckdb.DuckDBPyConnection, fields: Sequence[str] | None, *,
                    present_keys_only: bool = False) -> None:
    """TEMP table normalize_fields for the spans of normalize_input ($fields: only these, None = all).

    Spans with indexed keys or events go through the general relational path (extract_fields.sql);
    all others through one generated SELECT, which costs a fraction of it. For a chunk of at most
    PRESENT_KEYS_SPANS spans, or any chunk with `present_keys_only`, that SELECT names only the attribute
    keys normalize_input holds: a candidate of an absent key is NULL under every transform, so the result
    is the same at a fraction of the paths.
    """
    rules = tuple(_Rule(*row) for row in connection.execute(
        "SELECT field, priority, attribute_key, transform, argument FROM attribute_map"
        " ORDER BY field, priority, attribute_key, transform, argument").fetchall())
    limit = None if present_keys_only else PRESENT_KEYS_SPANS
    ((present, no_indexed),) = connection.execute(
        f"SELECT getvariable('{KNOWN_KEYS_VARIABLE}'), getvariable('{NO_INDEXED_KEYS_VARIABLE}')").fetchall()
    if present is None:
        ((present,),) = connection.execute(sql_text("normalize/present_keys.sql"), {"limit": limit}).fetchall()
    mapped = None if present is None else tuple(sorted({rule.attribute_key for rule in rules} & set(present)))
    plain_sql, plain_parameters, generic_sql, generic_parameters = _plain_extraction(
        rules, tuple(fields) if fields is not None else None, mapped, indexed=not no_indexed)
    connection.execute(plain_sql, plain_parameters)
    connection.execute(generic_sql, generic_parameters)
    generic_spans = _count(connection, "normalize_generic_input")
    if generic_spans:
        connection.execute(sql_text("normalize/extract_fields.sql"), {"fields": list(fields) if fields else None})
        connection.execute("INSERT INTO normalize_fields BY NAME SELECT * FROM normalize_fields_generic")


@functools.lru_cache(maxsize=64)
def _plain_extraction(
    rules: tuple[_Rule, ...], fields: tuple[str, ...] | None, present: tuple[str, ...] | None, *, indexed: bool = True
) -> tuple[str, dict[str, object], str, dict[str, object]]:
    """extract_plain.sql and extract_generic_input.sql rendered for these rules, with their parameters.

    Rendered once per process, mapping and set of `present` attribute keys (None: any key may be present;
    else the rules of other keys are left out of extract_plain.sql; `indexed` False: no span holds an
    indexed key's prefix, which is not searched for). Every constant (keys, paths, patterns) is a parameter.
    """
    active = [rule for rule in rules if fields is None or rule.field in fields]
    parameters: dict[str, object] = {}

    def parameter(value: object) -> str:
        name = f"p{len(parameters)}"
        parameters[name] = value
        return f"${name}"

    plain_rules = [rule for rule in active
                   if not rule.attribute_key.startswith(_EVENT_PREFIX) and "*" not in rule.attribute_key
                   and (present is None or rule.attribute_key.startswith("@") or rule.attribute_key in present)]
    text_keys = sorted({rule.attribute_key for rule in plain_rules if not rule.attribute_key.startswith("@")})
    json_keys = sorted({rule.attribute_key for rule in plain_rules
                        if not rule.attribute_key.startswith("@") and rule.transform in _JSON_TRANSFORMS})
    parameters["text_paths"] = [f'$."{key}"' for key in text_keys]
    if json_keys:
        parameters["json_paths"] = [f'$."{key}"' for key in json_keys]

    def candidate(rule: _Rule) -> dict[str, object]:
        """What extract_shape.sql's candidate macro needs of a rule: where its key's value is, and the
        names of its parameters."""
        if rule.transform not in _TRANSFORMS:
            raise ValueError(f"attribute_map has an unknown transform {rule.transform!r}")
        own_column = rule.attribute_key.startswith("@")
        return {
            "transform": rule.transform,
            "column": rule.attribute_key[1:] if own_column else None,
            "text_index": None if own_column else text_keys.index(rule.attribute_key) + 1,
            "json_index": json_keys.index(rule.attribute_key) + 1 if rule.attribute_key in json_keys else None,
            "argument": parameter(rule.argument) if rule.argument is not None else "NULL",
            "key": parameter(rule.attribute_key) if rule.transform == "span_type" else None,
        }

    columns = [{"field": field, "type": column_type,
                "candidates": [candidate(rule) for rule in plain_rules if rule.field == field]}
               for field, column_type in _FIELD_TYPES.items()]
    generic_parameters: dict[str, object] = {}
    # An indexed key is written in the attributes' JSON text as "prefix.N...: look for the prefix.
    for prefix in sorted({rule.attribute_key.split("*")[0] for rule in active if "*" in rule.attribute_key and indexed}):
        generic_parameters[f"prefix{len(generic_parameters)}"] = '"' + prefix
    shape = {"events": any(rule.attribute_key.startswith(_EVENT_PREFIX) for rule in active),
             "prefix_parameters": list(generic_parameters)}
    plain = sql_template("normalize/extract_plain.sql", columns=columns, json_values=bool(json_keys), **shape)
    parameters.update(generic_parameters)
    generic = sql_template("normalize/extract_generic_input.sql", **shape)
    return plain, parameters, generic, generic_parameters


# The transforms of attribute_map (as in extract_fields.sql), rendered by extract_shape.sql's candidate macro.
_TRANSFORMS = frozenset({"text", "int", "decimal", "first", "json_text", "json_int", "json_decimal", "regex",
                         "langfuse_total", "tool_names", "span_type"})


def _resolve_providers(connection: duckdb.DuckDBPyConnection) -> None:
    """TEMP table normalize_providers: genai-prices' own id for each raw provider name it recognises."""
    names = [row[0] for row in connection.execute(sql_text("normalize/provider_names.sql")).fetchall()]
    resolved = [(name, provider_id_for(name)) for name in names]
    table = pa.table(
        {"raw_name": [name for name, _ in resolved], "provider": [provider for _, provider in resolved]},
        schema=pa.schema([("raw_name", pa.string()), ("provider", pa.string())]),
    )
    _create_from_arrow(connection, "normalize_providers", table)


def _register_agent_uuids(connection: duckdb.DuckDBPyConnection) -> None:
    """TEMP table agent_uuids: the uuid5 of each distinct (service, agent) of derived_agents."""
    pairs = connection.execute(sql_text("normalize/agent_pairs.sql")).fetchall()
    table = pa.table(
        {
            "service_name": [service for service, _ in pairs],
            "agent_name": [agent for _, agent in pairs],
            "agent_uuid": [agent_uuid_for(service, agent) for service, agent in pairs],
        },
        schema=pa.schema([("service_name", pa.string()), ("agent_name", pa.string()), ("agent_uuid", pa.string())]),
    )
    _create_from_arrow(connection, "agent_uuids", table)


def _create_from_arrow(connection: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> None:
    view = f"{name}_arrow"
    connection.register(view, table)
    try:
        connection.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {view}")
    finally:
        connection.unregister(view)


def _drop(connection: duckdb.DuckDBPyConnection, tables: Sequence[str]) -> None:
    """Free the working tables (and the view normalize_input when it is among them)."""
    for table in tables:
        if table == "normalize_input":
            connection.execute("DROP VIEW IF EXISTS normalize_input")
            continue
        connection.execute(f"DROP TABLE IF EXISTS {table}")
