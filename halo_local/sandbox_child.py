"""The sandbox's DuckDB, in a process of its own: `python -m halo_local.sandbox_child`.

`SET memory_limit` and interrupts do not bound every statement (string builders such as `repeat()`
ignore both), so the sandbox runs its DuckDB here, under an address-space limit (`RLIMIT_AS`) that
the kernel enforces, where the parent can kill it without harming itself. The parent
(`sandbox_process.py`) sends requests over stdin and reads replies on stdout, one at a time.

This module imports only the standard library, duckdb and (on a first result) pyarrow, so the process
starts quickly; the parent imports it for the framing alone.
"""

from __future__ import annotations

import json
import os
import queue
import resource
import signal
import struct
import sys
import threading
from typing import TYPE_CHECKING, Any, BinaryIO

import duckdb

if TYPE_CHECKING:
    import pyarrow as pa

_HEADER_SIZE = struct.Struct(">I")
_BATCH_ROWS = 2048
QUERY_MEMORY_SHARE = 0.75
"""Of the memory ceiling, the share DuckDB may use beyond the loaded data before its own (clean)
out-of-memory error; the rest is headroom for what DuckDB does not count, up to `RLIMIT_AS`."""


def encode_message(header: dict[str, Any], payload: bytes = b"") -> bytes:
    """One message on the pipe: the JSON header's length, the header, then `payload` (its size in the header)."""
    encoded = json.dumps({**header, "payloadSize": len(payload)}).encode("utf-8")
    return _HEADER_SIZE.pack(len(encoded)) + encoded + payload


def decode_message(buffer: bytearray) -> tuple[dict[str, Any], bytes] | None:
    """The first complete message in `buffer`, removed from it; None while one is still incomplete."""
    if len(buffer) < _HEADER_SIZE.size:
        return None
    (header_size,) = _HEADER_SIZE.unpack_from(buffer)
    if len(buffer) < _HEADER_SIZE.size + header_size:
        return None
    header = json.loads(bytes(buffer[_HEADER_SIZE.size:_HEADER_SIZE.size + header_size]))
    end = _HEADER_SIZE.size + header_size + int(header["payloadSize"])
    if len(buffer) < end:
        return None
    payload = bytes(buffer[_HEADER_SIZE.size + header_size:end])
    del buffer[:end]
    return header, payload


def _read_message(stream: BinaryIO) -> tuple[dict[str, Any], bytes] | None:
    """The next message from the parent; None when it closed the pipe."""
    buffer = bytearray()
    while True:
        message = decode_message(buffer)
        if message is not None:
            return message
        chunk = stream.read1(1 << 16)  # type: ignore[attr-defined]
        if not chunk:
            return None
        buffer += chunk


def _address_space_bytes() -> int:
    """This process's mapped address space now (VmSize), which `RLIMIT_AS` counts."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("VmSize is missing from /proc/self/status")


class _Worker:
    """Runs the parent's requests on one connection; a reader thread takes interrupts meanwhile."""

    def __init__(self) -> None:
        self.connection = duckdb.connect(":memory:")
        self.connection.execute("SET enable_progress_bar = false")
        self.requests: queue.Queue[tuple[dict[str, Any], bytes]] = queue.Queue()
        self.running_id: int | None = None
        self.running_lock = threading.Lock()

    def read_requests(self, stream: BinaryIO) -> None:
        """Queue requests; act on interrupts at once; end the process when the parent goes away."""
        while True:
            message = _read_message(stream)
            if message is None:
                os._exit(0)  # the parent closed the pipe (or died): nobody waits for a result
            header, _ = message
            if header["op"] == "interrupt":
                with self.running_lock:
                    if self.running_id == header["id"]:
                        self.connection.interrupt()
            else:
                self.requests.put(message)

    def serve(self, output: BinaryIO) -> None:
        """Answer each request in turn; a failure is an `error` reply, so this process goes on."""
        while True:
            header, _ = self.requests.get()
            with self.running_lock:
                self.running_id = header["id"]
            try:
                reply, payload = self.handle(header)
            except duckdb.InterruptException:
                reply, payload = {"error": "interrupted"}, b""
            except (duckdb.OutOfMemoryException, MemoryError) as error:
                reply, payload = {"error": "memory", "message": str(error)}, b""
            except EndedTransaction:
                reply, payload = {"error": "rollback"}, b""
            except duckdb.Error as error:
                reply, payload = {"error": "duckdb", "type": type(error).__name__, "message": str(error)}, b""
            except Exception as error:  # noqa: BLE001 - a bug here must reach the parent, not end this process
                reply, payload = {"error": "internal", "type": type(error).__name__, "message": str(error)}, b""
            finally:
                with self.running_lock:
                    self.running_id = None
            output.write(encode_message({"id": header["id"], **reply}, payload))
            output.flush()

    def handle(self, request: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
        operation = request["op"]
        if operation == "execute":
            self.connection.execute(request["sql"], request.get("params"))
            return {}, b""
        if operation == "parse":
            statements = self.connection.extract_statements(request["sql"])
            return {"statements": [[statement.type.name, statement.query] for statement in statements]}, b""
        if operation == "fetch":
            return self.fetch(request)
        if operation == "seal":
            self.seal(int(request["memoryBytes"]), request["lockdown"])
            return {}, b""
        raise ValueError(f"unknown sandbox request {operation!r}")

    def seal(self, memory_bytes: int, lockdown: list[str]) -> None:
        """Bound DuckDB's memory and the process's address space, then lock the configuration for good."""
        ((loaded,),) = self.connection.execute(
            "SELECT coalesce(sum(memory_usage_bytes), 0) FROM duckdb_memory()"
        ).fetchall()
        self.connection.execute(f"SET memory_limit = '{int(loaded) + int(memory_bytes * QUERY_MEMORY_SHARE)}B'")
        for statement in lockdown:
            self.connection.execute(statement)
        self.fetch({"sql": "SELECT 1 AS warm_up", "maxRows": 1})  # reserve lazily mapped pools before the limit
        ceiling = _address_space_bytes() + memory_bytes
        resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))

    def fetch(self, request: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
        """Run one statement and return its first `maxRows` rows as Arrow IPC, reading every batch needed.

        DuckDB delivers DISTINCT, GROUP BY and parallel scans in several batches: stopping after the
        first one would silently drop rows. A statement in `transaction` mode is always rolled back.
        """
        in_transaction = bool(request.get("transaction"))
        if in_transaction:
            self.connection.execute("BEGIN TRANSACTION")
        try:
            result = self.connection.sql(request["sql"], params=request.get("params"))
            if result is None:
                return {"columns": []}, b""
            reader = result.to_arrow_reader(_BATCH_ROWS)
            try:
                batches, rows, size = _bounded_batches(reader, request.get("maxRows"), request.get("maxBytes"))
            finally:
                reader.close()
        finally:
            if in_transaction:
                self._roll_back()
        if size is not None:
            return {"error": "too_large", "size": size, "rows": rows}, b""
        import pyarrow.ipc  # here, not at the top: the parent imports this module for its framing only

        sink = pyarrow.BufferOutputStream()
        with pyarrow.ipc.new_stream(sink, reader.schema) as writer:
            for batch in batches:
                writer.write_batch(batch)
        return {"columns": list(result.columns)}, sink.getvalue().to_pybytes()

    def _roll_back(self) -> None:
        """End the statement's transaction, even when an interrupt lands just as the statement ended."""
        for attempt in range(2):
            try:
                self.connection.execute("ROLLBACK")
                return
            except duckdb.InterruptException:
                if attempt:
                    raise
            except duckdb.TransactionException as error:
                raise EndedTransaction(str(error)) from error


class EndedTransaction(Exception):
    """The statement ended the sandbox's transaction itself (the parent refuses it as a write)."""


def _bounded_batches(reader: pa.RecordBatchReader, max_rows: int | None,
                     max_bytes: int | None) -> tuple[list[pa.RecordBatch], int, int | None]:
    """Batches holding up to `max_rows` rows in all, plus their size in bytes once it exceeds `max_bytes`."""
    batches: list[pa.RecordBatch] = []
    rows = size = 0
    try:
        for batch in reader:
            if max_rows is not None and rows + batch.num_rows > max_rows:
                batch = batch.slice(0, max_rows - rows)
            batches.append(batch)
            rows += batch.num_rows
            size += batch.nbytes
            if max_bytes is not None and size > max_bytes:
                return batches, rows, size
            if max_rows is not None and rows >= max_rows:
                break
    except OSError as error:
        if "INTERRUPT" in str(error):  # an interrupt, surfacing through Arrow
            raise duckdb.InterruptException(str(error)) from error
        if "Out of Memory" in str(error):
            raise duckdb.OutOfMemoryException(str(error)) from error
        raise duckdb.Error(str(error)) from error
    return batches, rows, None


def main() -> None:
    """Serve requests on stdin/stdout; stray prints go to stderr so they cannot corrupt the pipe."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it ends this process
    output = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    worker = _Worker()
    reader = threading.Thread(target=worker.read_requests, args=(sys.stdin.buffer,), daemon=True)
    reader.start()
    worker.serve(output)


if __name__ == "__main__":
    main()
