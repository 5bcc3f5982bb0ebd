"""Several DuckDB results written one after another into one Parquet file, by a thread of its own.

DuckDB writes one query's rows to Parquet; a run's snapshot of a big window is sorted and written a
chunk at a time (one query each) into one file. Arrow's writer does the writing here, on a thread
that encodes one chunk while DuckDB redacts and sorts the next on the others.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

# Rows per row group: the detectors scan a snapshot a row group per thread; half DuckDB's own
# 122,880, since the writer holds a row group in memory beside the chunk DuckDB holds sorted.
ROW_GROUP_ROWS = 65_536
# Rows per batch handed from DuckDB to the writer; with at most `_QUEUED_BATCHES` waiting, the
# writer holds little more than one row group beside what DuckDB holds.
_BATCH_ROWS = 16_384
_QUEUED_BATCHES = 4


class _Stop:
    """The end of the batches (or a failure of the side that makes them)."""


def _with_json_types(batch: pa.RecordBatch, json_columns: frozenset[str]) -> pa.RecordBatch:
    """`batch` with its JSON columns typed as Arrow JSON, so Parquet records them as JSON (DuckDB
    exports them as plain strings) and a reader sees the same types as in a file DuckDB wrote."""
    if not json_columns:
        return batch
    columns = [pa.ExtensionArray.from_storage(pa.json_(), column) if name in json_columns else column
               for name, column in zip(batch.schema.names, batch.columns, strict=True)]
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


def write_parquet_in_order(relations: Iterable[duckdb.DuckDBPyRelation], path: Path) -> int:
    """Write every row of `relations`, one relation after the other and each in its own order, to
    the Parquet file `path`; the number of rows written (no rows: no file).

    The relations are executed on the calling thread (a DuckDB connection stays on one thread); a
    failure on either side stops both and is raised here."""
    batches: queue.Queue[pa.RecordBatch | type[_Stop]] = queue.Queue(maxsize=_QUEUED_BATCHES)
    failures: list[BaseException] = []
    written = 0

    def write() -> None:
        nonlocal written
        writer: pq.ParquetWriter | None = None
        pending: list[pa.RecordBatch] = []
        pending_rows = 0
        try:
            while (batch := batches.get()) is not _Stop:
                assert isinstance(batch, pa.RecordBatch)
                if writer is None:
                    writer = pq.ParquetWriter(path, batch.schema)
                pending.append(batch)
                pending_rows += batch.num_rows
                if pending_rows >= ROW_GROUP_ROWS:
                    table = pa.Table.from_batches(pending)
                    full = pending_rows - pending_rows % ROW_GROUP_ROWS
                    writer.write_table(table.slice(0, full), row_group_size=ROW_GROUP_ROWS)
                    pending = table.slice(full).to_batches()
                    pending_rows -= full
                    written += full
            if writer is not None and pending_rows:
                writer.write_table(pa.Table.from_batches(pending), row_group_size=ROW_GROUP_ROWS)
                written += pending_rows
        except BaseException as error:  # handed to the calling thread, which raises it
            failures.append(error)
            while batches.get() is not _Stop:  # let the producer finish putting
                pass
        finally:
            if writer is not None:
                writer.close()

    thread = threading.Thread(target=write, name="halo-parquet-writer", daemon=True)
    thread.start()
    try:
        for relation in relations:
            json_columns = frozenset(name for name, kind in zip(relation.columns, relation.types, strict=True)
                                     if str(kind) == "JSON")
            for batch in relation.to_arrow_reader(_BATCH_ROWS):
                if failures:
                    break
                batches.put(_with_json_types(batch, json_columns))
            if failures:
                break
    finally:
        batches.put(_Stop)
        thread.join()
    if failures:
        raise failures[0]
    return written
