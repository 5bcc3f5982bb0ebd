"""A selection fetched from ClickHouse becomes stored spans, normalized by the same code as a loaded file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import duckdb

from halo_local.resources import sql_text
from halo_local.store import Store

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass(frozen=True)
class FetchedSelection:
    """What a fetch stored: spans new to the store, spans it held already, and the Arrow bytes fetched."""

    spans_new: int
    duplicates: int
    bytes_fetched: int


def store_selection(store: Store, selection: pa.Table, *, source: str) -> FetchedSelection:
    """Normalize the fetched rows (clickhouse/selection.sql's columns) into the store's spans, in one
    transaction; `source` (the redacted URL) is recorded as their source_file."""
    from halo_local.ingest.normalize import derive_trace_columns, insert_normalized  # not at CLI start-up

    with duckdb.connect() as scratch:
        scratch.register("clickhouse_selection", selection)
        scratch.execute(sql_text("sources/raw_spans.sql"))
        scratch.unregister("clickhouse_selection")
        with store.transaction() as connection:
            result = insert_normalized(connection, source_files=[source], scratch=scratch)
            derive_trace_columns(connection, result.underived_trace_ids)
    return FetchedSelection(spans_new=result.spans_new, duplicates=result.duplicates,
                            bytes_fetched=selection.nbytes)
