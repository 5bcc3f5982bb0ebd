"""raw_spans → spans: canonical columns, then the columns that need a whole trace.

Which attribute fills which column is data, not code: `sql/normalize/mapping.sql` lists every
convention's keys with a priority, and `extract_fields.sql` applies that table to all spans of a file
at once. Python only orchestrates the SQL files and asks genai-prices and uuid5 about the few
distinct providers, models and agents — never anything per span.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from halo_local.pricing import load_price_tables, provider_id_for
from halo_local.resources import sql_text

# agent_uuid = uuid5(AGENT_NAMESPACE, service + "\x1f" + agent): the same agent gets the same id on every
# machine and every load. (The namespace is uuid5(NAMESPACE_URL, "halo-local:agent"); never change it.)
AGENT_NAMESPACE = uuid.UUID("d9112c5c-7aeb-5985-a1a6-18f38d8c004a")
_AGENT_NAME_FIELDS = ["declared_agent", "agent_span_label"]
NORMALIZE_CHUNK_SPANS = 100_000  # spans mapped per statement: bounds the memory a large file needs
_INSERT_TABLES = ("normalize_new", "normalize_fields", "normalize_providers")
_DERIVE_TABLES = ("derive_spans", "normalize_fields", "normalize_agent_fields", "derived_agents", "agent_uuids",
                  "derived_usage", "price_candidates", "price_rules", "price_rates", "derived_cost")


@dataclass(frozen=True)
class NormalizeResult:
    """What insert_normalized stored: new spans, spans already stored (or repeated), traces touched."""

    spans_new: int
    duplicates: int
    trace_ids: list[str]


def agent_uuid_for(service_name: str | None, agent_name: str | None) -> str:
    """The stable id of an agent: uuid5 of its service and name (a missing one counts as empty)."""
    return str(uuid.uuid5(AGENT_NAMESPACE, f"{service_name or ''}\x1f{agent_name or ''}"))


def insert_normalized(connection: duckdb.DuckDBPyConnection, *, source_file: str) -> NormalizeResult:
    """Store the raw_spans rows not stored yet, with their canonical columns.

    A span whose (trace_id, span_id) is stored already, or appears earlier in the same file, is a
    duplicate: counted, not stored again. agent, counts_usage and computed cost are left to
    derive_trace_columns, which the caller runs on the returned trace_ids.
    """
    _install_mapping(connection)
    (spans_read,) = connection.execute("SELECT count(*) FROM raw_spans").fetchone()
    connection.execute(sql_text("normalize/select_new_spans.sql"))
    (spans_new,) = connection.execute("SELECT count(*) FROM normalize_new").fetchone()
    for first in range(1, spans_new + 1, NORMALIZE_CHUNK_SPANS):
        connection.execute(f"SET VARIABLE normalize_chunk_first = {int(first)}")
        connection.execute(f"SET VARIABLE normalize_chunk_last = {int(first + NORMALIZE_CHUNK_SPANS - 1)}")
        connection.execute(sql_text("normalize/extract_fields.sql"), {"fields": None})
        _resolve_providers(connection)
        connection.execute(sql_text("normalize/insert_spans.sql"), {"source_file": source_file})
        connection.execute(sql_text("normalize/remember_agent_fields.sql"))
    trace_ids = [row[0] for row in connection.execute(
        "SELECT DISTINCT trace_id FROM normalize_new ORDER BY trace_id").fetchall()]
    _drop(connection, _INSERT_TABLES)
    return NormalizeResult(spans_new=spans_new, duplicates=spans_read - spans_new, trace_ids=trace_ids)


def derive_trace_columns(connection: duckdb.DuckDBPyConnection, trace_ids: Sequence[str]) -> None:
    """Recompute agent_name, agent_uuid, counts_usage, cost_usd and cost_source of every stored span
    of these traces, so that spans loaded from earlier files are seen together with new ones."""
    if not trace_ids:
        return
    _install_mapping(connection)
    connection.execute(sql_text("normalize/derive_input.sql"), {"trace_ids": list(trace_ids)})
    connection.execute(sql_text("normalize/derive_input_view.sql"))
    connection.execute(sql_text("normalize/extract_fields.sql"), {"fields": _AGENT_NAME_FIELDS})
    connection.execute(sql_text("normalize/derive_agents.sql"))
    _register_agent_uuids(connection)
    connection.execute(sql_text("normalize/derive_usage.sql"))
    connection.execute(sql_text("normalize/price_candidates.sql"))
    load_price_tables(connection, connection.execute(sql_text("normalize/price_models.sql")).fetchall())
    connection.execute(sql_text("normalize/price.sql"))
    connection.execute(sql_text("normalize/apply_derived.sql"))
    _drop(connection, _DERIVE_TABLES)


def _install_mapping(connection: duckdb.DuckDBPyConnection) -> None:
    """The mapping tables and macros, once per connection (the loader calls insert then derive)."""
    (installed,) = connection.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = 'provider_aliases'").fetchone()
    if installed:
        return
    connection.execute(sql_text("normalize/macros.sql"))
    connection.execute(sql_text("normalize/mapping.sql"))


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
    """Free the working tables: a 1M-span file leaves large ones behind otherwise."""
    connection.execute("DROP VIEW IF EXISTS normalize_input")
    for table in tables:
        connection.execute(f"DROP TABLE IF EXISTS {table}")
