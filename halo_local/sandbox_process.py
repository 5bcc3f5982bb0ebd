"""The parent's side of the sandbox process (`sandbox_child.py`): start it, send it one request at a
time, and make every request end in time whatever the SQL does.

A request that outlives its deadline is interrupted; one that still does not answer a second later
(a string builder ignores interrupts) is ended by killing the process. The caller starts a new
process for its next request.
"""

from __future__ import annotations

import contextlib
import math
import os
import select
import signal
import subprocess
import sys
import threading
import time
from typing import Any

from halo_local.common.sizes import parse_size
from halo_local.errors import HaloLocalError, UsageError
from halo_local.sandbox_child import decode_message, encode_message

DEFAULT_MEMORY_LIMIT = "1GB"
MEMORY_LIMIT_ENV = "HALO_SANDBOX_MEMORY_LIMIT"
"""Overrides DEFAULT_MEMORY_LIMIT for every sandbox (CLI `query`, MCP, the LLM pass)."""
MIN_MEMORY_LIMIT_BYTES = 128 << 20
KILL_GRACE_SECONDS = 1.0
"""How long an interrupted request may take to answer before its process is killed."""
_POLL_SECONDS = 0.05  # how often a waiting request looks for an interrupt() from another thread
_READ_BYTES = 1 << 20


def memory_limit_bytes(value: int | str | None = None, flag: str = "--memory-limit") -> int:
    """A sandbox memory ceiling in bytes: an int is bytes already; text is a size as `parse_size` reads it
    (`512MB`, `2GB`; a bare number is MB). None takes $HALO_SANDBOX_MEMORY_LIMIT, else
    DEFAULT_MEMORY_LIMIT. A bad value from a flag is a UsageError."""
    error_type: type[HaloLocalError] = UsageError
    if value is None:
        value, flag, error_type = os.environ.get(MEMORY_LIMIT_ENV) or DEFAULT_MEMORY_LIMIT, MEMORY_LIMIT_ENV, HaloLocalError
    if isinstance(value, int) and not isinstance(value, bool):
        size = value
    else:
        parsed = parse_size(value, bare_unit=1 << 20) if isinstance(value, str) else None
        if parsed is None:
            raise error_type(f"{flag} must be a size such as 512MB or 2GB, not {value!r}")
        size = parsed
    if size < MIN_MEMORY_LIMIT_BYTES:
        raise error_type(f"{flag} must be at least {size_text(MIN_MEMORY_LIMIT_BYTES)}, not {value!r}")
    return size


def size_text(size: int) -> str:
    """A byte count as people write memory limits: `1 GB`, `1.5 GB`, `512 MB`."""
    if size >= 1 << 30:
        return f"{size / (1 << 30):.2f}".rstrip("0").rstrip(".") + " GB"
    return f"{size / (1 << 20):.0f} MB"


class ChildFailure(Exception):
    """A request that did not succeed. `kind` says why: `duckdb` (the statement failed), `memory`,
    `too_large`, `rollback`, `internal`, `time_limit` or `stopped` (interrupted, or killed when the
    interrupt went unanswered), `died` (the process ended on its own)."""

    def __init__(self, kind: str, message: str = "", *, error_type: str | None = None,
                 size: int | None = None, rows: int | None = None) -> None:
        super().__init__(message or kind)
        self.kind = kind
        self.message = message
        self.error_type = error_type
        self.size = size
        self.rows = rows


class SandboxProcess:
    """One running `python -m halo_local.sandbox_child`, spoken to over its stdin and stdout.

    A fresh interpreter (exec, never a bare fork of a process whose DuckDB threads already run)
    that imports only duckdb and pyarrow. Requests are not thread-safe: the caller serialises
    them; `interrupt()` may come from any thread.
    """

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-P", "-m", "halo_local.sandbox_child"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, close_fds=True,
            # The system allocator maps what it uses; Arrow's default pool reserves a gigabyte of address
            # space on first use, which would count against the process's limit.
            env={**os.environ, "ARROW_DEFAULT_MEMORY_POOL": "system"},
        )
        self._buffer = bytearray()
        self._last_id = 0
        self._stop_requested = threading.Event()

    @property
    def pid(self) -> int:
        return self._process.pid

    def alive(self) -> bool:
        return self._process.poll() is None

    def interrupt(self) -> None:
        """Stop the request running now (from any thread); it fails with kind `stopped`."""
        self._stop_requested.set()

    def request(self, header: dict[str, Any], *, deadline: float | None) -> tuple[dict[str, Any], bytes]:
        """Send one request and return its reply; ChildFailure when it failed, ran out of time or killed the process.

        `deadline` is a `time.monotonic()` value (None: no time limit, though `interrupt()` still stops it).
        """
        self._last_id += 1
        request_id = self._last_id
        self._stop_requested.clear()
        try:
            self._send({**header, "id": request_id})
            reply, payload, stopped_for = self._receive(request_id, deadline)
        except BaseException:
            self.kill()  # a request cut short leaves the pipe mid-message: this process is done
            raise
        error = reply.get("error")
        if error is None:
            return reply, payload
        if error == "interrupted":
            error = stopped_for or "stopped"
        raise ChildFailure(error, str(reply.get("message", "")), error_type=reply.get("type"),
                           size=reply.get("size"), rows=reply.get("rows"))

    def _send(self, header: dict[str, Any]) -> None:
        stdin = self._process.stdin
        assert stdin is not None
        try:
            stdin.write(encode_message(header))
            stdin.flush()
        except (BrokenPipeError, ValueError) as error:
            raise self._death() from error

    def _receive(self, request_id: int, deadline: float | None) -> tuple[dict[str, Any], bytes, str | None]:
        """Wait for the reply: interrupt at the deadline (or on `interrupt()`), kill a second later."""
        stdout = self._process.stdout
        assert stdout is not None
        descriptor = stdout.fileno()
        soft_deadline = math.inf if deadline is None else deadline
        stopped_for: str | None = None
        kill_at = math.inf
        while True:
            message = decode_message(self._buffer)
            if message is not None:
                header, payload = message
                if header.get("id") == request_id:
                    return header, payload, stopped_for
                continue
            now = time.monotonic()
            if stopped_for is None:
                if self._stop_requested.is_set():
                    stopped_for = "stopped"
                elif now >= soft_deadline:
                    stopped_for = "time_limit"
                if stopped_for is not None:
                    kill_at = now + KILL_GRACE_SECONDS
                    self._send({"op": "interrupt", "id": request_id})
            elif now >= kill_at:
                self.kill()
                raise ChildFailure(stopped_for, "the sandbox process did not answer its interrupt and was killed")
            wake_at = kill_at if stopped_for is not None else soft_deadline
            ready, _, _ = select.select([descriptor], [], [], max(0.0, min(_POLL_SECONDS, wake_at - now)))
            if ready:
                chunk = os.read(descriptor, _READ_BYTES)
                if not chunk:
                    raise self._death()
                self._buffer += chunk

    def _death(self) -> ChildFailure:
        """The failure for a process that ended on its own, saying how it ended."""
        try:
            code = self._process.wait(timeout=KILL_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self._process.returncode
        if code is not None and code < 0:
            try:
                how = f"killed by {signal.Signals(-code).name}"
            except ValueError:
                how = f"killed by signal {-code}"
        else:
            how = f"exit status {code}"
        return ChildFailure("died", f"the sandbox process ended unexpectedly ({how})")

    def kill(self) -> None:
        """End the process now; idempotent."""
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        self._close_pipes()

    def close(self) -> None:
        """Let an idle process exit (it ends when its stdin closes); kill it if it does not."""
        if self._process.poll() is None:
            try:
                if self._process.stdin is not None:
                    self._process.stdin.close()
                self._process.wait(timeout=KILL_GRACE_SECONDS)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                pass
        self.kill()

    def _close_pipes(self) -> None:
        for pipe in (self._process.stdin, self._process.stdout):
            if pipe is not None:
                with contextlib.suppress(BrokenPipeError):
                    pipe.close()
