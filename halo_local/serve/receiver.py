"""`halo-local serve`: an OTLP/HTTP trace receiver in front of the local store.

Request threads only check a body and append it to the spool (`spool.py`); they never touch the
database, so exporters never wait on its lock. One ingester thread moves closed spool segments into
the store with the ordinary file loader (short transactions, the store's lock retry), so CLI
commands, runs and schedule ticks keep working while the receiver runs.
"""

from __future__ import annotations

import fcntl
import hmac
import ipaddress
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from halo_local.errors import HaloLocalError, InvalidTraceFileError, UsageError
from halo_local.ingest import load_paths
from halo_local.serve import otlp_http
from halo_local.serve.spool import Spool
from halo_local.store import Store

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4318
DEFAULT_MAX_BODY = 8 << 20
DEFAULT_MAX_BACKLOG = 512 << 20
MAX_CONCURRENT_REQUESTS = 64
INGEST_INTERVAL_SECONDS = 0.5
BUSY_RETRY_AFTER_SECONDS = 1
BACKLOG_RETRY_AFTER_SECONDS = 5
TRACES_PATH = "/v1/traces"
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReceiverOptions:
    """What `halo-local serve` was asked for; `max_backlog` bytes of spool not yet stored trip 503."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    token: str | None = None
    max_body: int = DEFAULT_MAX_BODY
    max_backlog: int = DEFAULT_MAX_BACKLOG


def check_exposure(host: str, token: str | None) -> None:
    """Refuse to listen beyond this machine without a bearer token: traces hold prompts and outputs."""
    if token:
        return
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise UsageError(f"refusing to listen on {host} without --token",
                         hint="other machines could send or probe traces; pass --token SECRET (exporters send "
                              "'Authorization: Bearer SECRET') or keep the default host 127.0.0.1")


class Receiver:
    """The spool, the ingester thread and the HTTP server of one `halo-local serve`."""

    def __init__(self, store: Store, options: ReceiverOptions) -> None:
        check_exposure(options.host, options.token)
        self.store = store
        self.options = options
        self.folder = store.home / "receiver"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise HaloLocalError(f"cannot create the spool folder {self.folder}: {error.strerror or error}",
                                 hint="point HALO_HOME at a folder you can write to") from error
        self._lock_file = _exclusive_lock(self.folder / "lock")
        self.spool = Spool(self.folder / "spool")
        self.spans_received = 0
        self.spans_rejected = 0
        self.spans_stored = 0
        self.requests = 0
        self.last_ingest_error: str | None = None
        self._counter_lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(MAX_CONCURRENT_REQUESTS)
        self._stop_ingesting = threading.Event()
        self._closing = threading.Event()  # kept-alive connections may still send after the socket closed
        try:
            self.server = _Server((options.host, options.port), _Handler, self)
        except OSError as error:
            self.spool.close()
            self._lock_file.close()
            raise HaloLocalError(f"cannot listen on {options.host}:{options.port}: {error.strerror or error}",
                                 hint="another process may use the port; pass --port (0 picks a free one)") from error
        self._ingester = threading.Thread(target=self._ingest_loop, name="halo-ingester", daemon=True)
        self._http = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.2},
                                      name="halo-http", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._ingester.start()
        self._http.start()

    def stop(self) -> None:
        """Stop taking requests, let those under way finish, store what the spool holds, and close."""
        self._closing.set()
        self.server.shutdown()
        self.server.server_close()
        deadline = time.monotonic() + 10
        while self.server.in_flight and time.monotonic() < deadline:
            time.sleep(0.02)
        self._stop_ingesting.set()
        self._ingester.join()
        self.spool.close()
        self._lock_file.close()

    def status(self) -> dict[str, Any]:
        """The counters shown on a terminal, at /healthz and in the --json summary."""
        return {
            "url": self.url,
            "endpoint": self.url + TRACES_PATH,
            "home": str(self.store.home),
            "requests": self.requests,
            "spansReceived": self.spans_received,
            "spansRejected": self.spans_rejected,
            "spansStored": self.spans_stored,
            "spoolBacklogBytes": self.spool.backlog_bytes,
            "lastIngestError": self.last_ingest_error,
        }

    # --- request path ----------------------------------------------------------------------------

    def handle_export(self, body: bytes, content_type: str, content_encoding: str | None) -> bytes:
        """Check, spool durably and count one export; raises RequestRefused for an error status."""
        if self._closing.is_set():
            raise otlp_http.RequestRefused(503, "the receiver is stopping; retry later", BUSY_RETRY_AFTER_SECONDS)
        if self.spool.backlog_bytes > self.options.max_backlog:
            raise otlp_http.RequestRefused(
                503, "the receiver is storing earlier spans; retry later", BACKLOG_RETRY_AFTER_SECONDS)
        data = otlp_http.decompress(body, content_encoding, self.options.max_body)
        batch = otlp_http.accept(data, content_type)
        if batch.record is not None:
            self.spool.append(batch.record)
        with self._counter_lock:
            self.requests += 1
            self.spans_received += batch.spans
            self.spans_rejected += batch.rejected
        return otlp_http.success_body(content_type, batch.rejected)

    def authorized(self, header: str | None) -> bool:
        if not self.options.token:
            return True
        expected = f"Bearer {self.options.token}".encode()
        return hmac.compare_digest((header or "").strip().encode(), expected)

    def try_enter(self) -> bool:
        return self._slots.acquire(blocking=False)

    def leave(self) -> None:
        self._slots.release()

    # --- ingester --------------------------------------------------------------------------------

    def _ingest_loop(self) -> None:
        while not self._stop_ingesting.wait(INGEST_INTERVAL_SECONDS):
            self.ingest_once()
        self.ingest_once()

    def ingest_once(self) -> None:
        """Close the segment being written and load every closed one, oldest first."""
        self.spool.rotate()
        for segment in self.spool.closed_segments():
            try:
                summary = load_paths(self.store, [segment], skip_invalid=True)
            except InvalidTraceFileError as error:
                self.last_ingest_error = error.message
                _log.error("setting aside %s: %s", segment, error.message)
                self.spool.set_aside(segment, self.folder / "failed")
                continue
            except HaloLocalError as error:  # the database busy or unusable: the next round tries again
                self.last_ingest_error = error.message
                return
            except Exception as error:  # noqa: BLE001 - the ingester must outlive any one failed load
                self.last_ingest_error = f"{type(error).__name__}: {error}"
                _log.exception("storing %s failed; retrying", segment)
                return
            self.spool.release(segment)  # before counting: a client that sees them stored finds the backlog freed
            with self._counter_lock:
                self.spans_stored += summary.spans_new + summary.duplicates
            self.last_ingest_error = None



def _exclusive_lock(path: Path) -> Any:
    """One receiver per $HALO_HOME: the spool has a single writer. The OS drops the lock if we die."""
    handle = path.open("a")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        handle.close()
        raise HaloLocalError(f"another halo-local serve is using {path.parent}",
                             hint="stop it first, or point HALO_HOME at another folder") from error
    return handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # idle keep-alive connections must not hold up shutdown; in_flight is waited for
    allow_reuse_address = True
    request_queue_size = 128  # 16 exporters connecting at once overflow the default of 5

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], receiver: Receiver) -> None:
        self.receiver = receiver
        self.in_flight = 0
        self.in_flight_lock = threading.Lock()
        super().__init__(address, handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: exporters reuse their connection
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        """Requests are counted, not logged line by line."""

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] != "/healthz":
            self._send(404, *otlp_http.error_body(otlp_http.JSON, 404, "not found: POST /v1/traces, GET /healthz"))
            return
        self._send(200, otlp_http.json_document({"status": "ok", **self.server.receiver.status()}), otlp_http.JSON)

    def do_POST(self) -> None:
        receiver = self.server.receiver
        content_type = otlp_http.media_type(self.headers.get("Content-Type"))
        reply_type = content_type if content_type in (otlp_http.PROTOBUF, otlp_http.JSON) else otlp_http.JSON
        with self.server.in_flight_lock:
            self.server.in_flight += 1
        try:
            self._export(receiver, content_type)
        except otlp_http.RequestRefused as refused:
            body, body_type = otlp_http.error_body(reply_type, refused.status, refused.message)
            headers = {"Retry-After": str(refused.retry_after)} if refused.retry_after is not None else {}
            self._send(refused.status, body, body_type, headers)
        finally:
            with self.server.in_flight_lock:
                self.server.in_flight -= 1

    def _export(self, receiver: Receiver, content_type: str) -> None:
        if self.path.split("?", 1)[0] != TRACES_PATH:
            self.close_connection = True
            raise otlp_http.RequestRefused(404, f"not found: send traces to POST {TRACES_PATH}")
        if not receiver.authorized(self.headers.get("Authorization")):
            self.close_connection = True
            raise otlp_http.RequestRefused(401, "missing or wrong bearer token")
        length = self._content_length()
        if not receiver.try_enter():
            self._discard(length)
            raise otlp_http.RequestRefused(429, "too many exports at once; retry later", BUSY_RETRY_AFTER_SECONDS)
        try:
            body = self.rfile.read(length)
            if len(body) < length:
                self.close_connection = True
                raise otlp_http.RequestRefused(400, "the body ended before its Content-Length")
            reply = receiver.handle_export(body, content_type, self.headers.get("Content-Encoding"))
        finally:
            receiver.leave()
        self._send(200, reply, content_type)

    def _content_length(self) -> int:
        raw = self.headers.get("Content-Length")
        if raw is None or not raw.strip().isdigit():
            self.close_connection = True
            raise otlp_http.RequestRefused(411, "a Content-Length header is required")
        length = int(raw)
        if length > self.server.receiver.options.max_body:
            self.close_connection = True  # the body is not read: the connection cannot be reused
            raise otlp_http.RequestRefused(413, f"the body is over {self.server.receiver.options.max_body:,} bytes")
        return length

    def _discard(self, length: int) -> None:
        while length > 0:
            chunk = self.rfile.read(min(length, 1 << 16))
            if not chunk:
                self.close_connection = True
                return
            length -= len(chunk)

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


def serve_until_stopped(receiver: Receiver, stop: threading.Event,
                        on_tick: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Run until `stop` is set (by SIGTERM/SIGINT), calling `on_tick` with the status about once a second."""
    receiver.start()
    try:
        while not stop.wait(1.0):
            if on_tick is not None:
                on_tick(receiver.status())
    finally:
        receiver.stop()
    return receiver.status()

