"""The repo's fixtures in ClickHouse: loaded locally, then written as the collector's exporter writes
them into an `otel_traces` table with the exporter's columns (tests/fixtures/clickhouse)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from halo_local.store import Store

CLICKHOUSE_FIXTURES = Path(__file__).parent / "fixtures" / "clickhouse"


def create_exporter_table(client: Any, database: str, table: str = "otel_traces") -> None:
    """The exporter's traces table (its definition, SOURCE.txt) in `database`."""
    client.command(f"CREATE DATABASE IF NOT EXISTS {database}")
    definition = (CLICKHOUSE_FIXTURES / "otel_traces.sql").read_text(encoding="utf-8")
    client.command(definition.replace("{database}", database).replace("{table}", table))


def exported_value(value: Any) -> str | None:
    """An attribute value as the exporter stores it (pcommon Value.AsString): strings as they are,
    numbers and booleans as their text, arrays and maps as JSON text; null is no entry."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def exported_map(text: str | None) -> dict[str, str]:
    document = json.loads(text) if text else {}
    if not isinstance(document, dict):
        return {}
    return {key: exported for key, value in document.items() if (exported := exported_value(value)) is not None}


def _time(ns: int) -> str:
    from datetime import datetime, timedelta

    moment = datetime(1970, 1, 1) + timedelta(microseconds=ns // 1000)
    return moment.strftime("%Y-%m-%d %H:%M:%S") + f".{ns % 1_000_000_000:09d}"


def export_store(store: Store, client: Any, database: str, table: str = "otel_traces") -> int:
    """Insert every span of `store` into `database`.`table` as exporter rows; returns the span count."""
    with store.connect() as connection:
        cursor = connection.execute((CLICKHOUSE_FIXTURES / "to_exporter_rows.sql").read_text(encoding="utf-8"))
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, row)) for row in cursor.fetchall()]
    lines = []
    for row in rows:
        events = json.loads(row.pop("events") or "[]") or []
        links = json.loads(row.pop("links") or "[]") or []
        start_ns = row.pop("start_ns")
        row["ResourceAttributes"] = exported_map(row["ResourceAttributes"])
        row["SpanAttributes"] = exported_map(row["SpanAttributes"])
        row["Events.Timestamp"] = [_time(int(event.get("timeUnixNano") or start_ns)) for event in events]
        row["Events.Name"] = [event.get("name") or "" for event in events]
        row["Events.Attributes"] = [exported_map(json.dumps(event.get("attributes") or {})) for event in events]
        row["Links.TraceId"] = [link.get("traceId") or "" for link in links]
        row["Links.SpanId"] = [link.get("spanId") or "" for link in links]
        row["Links.TraceState"] = ["" for _ in links]
        row["Links.Attributes"] = [exported_map(json.dumps(link.get("attributes") or {})) for link in links]
        lines.append(json.dumps(row, ensure_ascii=False))
    if lines:
        client.raw_insert(f"{database}.{table}", insert_block="\n".join(lines).encode("utf-8"), fmt="JSONEachRow")
    return len(lines)
