"""The one-pass load's writes into the store, on a thread of their own, beside the normalizing of the next part.

The store's insert into spans (DuckDB compressing and writing row groups) was the largest item of the main
thread's work at 1M spans (~8 of its ~35 CPU-s), and the main thread sets the one-pass load's wall: the
parser thread waits for it. Here a writer thread runs each part's writes (`submit`) on the store's
connection, inside the file's transaction, while the main thread goes on with the next part; at most one
part's writes are in flight (the caller waits before submitting the next), so one more part of rows is held.

The main thread no longer uses the store's connection while the writer may: it looks the part's keys up
in `committed`, a second connection to the store that sees it as committed before this file's transaction
(whose writes it does not see), and in the keys the file's earlier parts stored (`normalize_file_keys` of
the work database, `normalize.insert_normalized`): together exactly what the store's connection would see.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from types import TracebackType

import duckdb
import pyarrow as pa

from halo_local.store import second_connection

STORE_THREADS = 1
"""DuckDB threads of the store while the writer holds it (the setting is restored by `close`): the insert
of a part took twice the CPU with two (0.41 against 0.20 CPU-s per 100k spans) in the same wall."""


@dataclass(frozen=True)
class _Write:
    statement: str
    name: str | None  # what `statement` reads `stream` as
    stream: pa.RecordBatchReader | None



class StoreWriter:
    """Runs statements on the store's `connection`, in order, on a thread; `committed` is for reads."""

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self._connection = connection
        ((self._threads,),) = connection.execute("SELECT current_setting('threads')").fetchall()
        connection.execute(f"SET threads = {STORE_THREADS}")
        self.committed = second_connection(connection)
        self.parts = 0  # parts of the file begun (normalize.insert_normalized)
        self._jobs: queue.Queue[_Write | None] = queue.Queue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="halo-store-writer", daemon=True)
        self._thread.start()

    def __enter__(self) -> StoreWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def begin_part(self) -> int:
        """Count a part of the file begun; returns its number, from 1."""
        self.parts += 1
        return self.parts

    def submit(self, statement: str, name: str | None = None, table: pa.Table | None = None) -> None:
        """Run `statement` after the writes submitted before it; with `table`, it reads it once as `name`
        (as a stream that lets go of each batch once read: the caller must not keep `table`)."""
        self._raise_error()
        stream = None if table is None else pa.RecordBatchReader.from_batches(table.schema, iter(table.to_batches()))
        self._jobs.put(_Write(statement, name, stream))

    def wait(self) -> None:
        """Until every write submitted is done; raises the first error a write met."""
        self._jobs.join()
        self._raise_error()

    def close(self) -> None:
        """Stop the thread once the writes submitted are done (their errors are left to `wait`)."""
        if self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join()
        self.committed.close()
        self._connection.execute(f"SET threads = {int(self._threads)}")

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                if job is None:
                    return
                if self._error is None:
                    self._write(job)
            except BaseException as error:  # raised on the main thread by its next submit or wait
                self._error = error
            finally:
                self._jobs.task_done()

    def _write(self, job: _Write) -> None:
        if job.stream is None or job.name is None:
            self._connection.execute(job.statement)
            return
        self._connection.register(job.name, job.stream)
        try:
            self._connection.execute(job.statement)
        finally:
            self._connection.unregister(job.name)
