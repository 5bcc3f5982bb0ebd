"""Test doubles for the LLM pass: a fake Anthropic Messages API on 127.0.0.1, and span snapshots.

The real `anthropic` SDK talks to `FakeAnthropic` exactly as it would to the real service, so
tests exercise the client's serialization, retries and error mapping, never the network. Each
request pops the next scripted `FakeReply` (or message dict) from a queue and is logged, so a
test can assert on what was sent (e.g. that no secret ever left the machine).

Use it with the `fake_anthropic` fixture (import it into a test module), or as a context manager:

    with FakeAnthropic() as server:
        server.push(tool_use_message([("run_sql", {"sql": "SELECT 1"})]))
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.base_url)
"""

from __future__ import annotations

import itertools
import json
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb
import pytest

SCHEMA_SQL = Path(__file__).resolve().parent.parent / "sql" / "schema" / "001_spans.sql"
_message_numbers = itertools.count(1)


@dataclass
class FakeReply:
    """One scripted HTTP answer: a JSON body, or raw bytes, optionally held back or cut short."""

    body: Mapping[str, Any] | None = None
    status: int = 200
    raw: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    held: bool = False              # answer only once `release` is set (by the test, or at shutdown)
    truncate: bool = False          # announce the full length, send half, then drop the connection

    def payload(self) -> bytes:
        if self.raw is not None:
            return self.raw
        return json.dumps(self.body if self.body is not None else {}).encode("utf-8")


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    headers: dict[str, str]
    text: str

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.text)


def usage(input_tokens: int = 100, output_tokens: int = 20, cache_read: int = 0, cache_write: int = 0) -> dict[str, int]:
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_read_input_tokens": cache_read,
        "cache_creation_input_tokens": cache_write,
    }


def message(content: Sequence[Mapping[str, Any]], *, stop_reason: str = "end_turn",
            model: str = "claude-sonnet-5-5", tokens: Mapping[str, int] | None = None) -> dict[str, Any]:
    """A Messages API response body with the given content blocks."""
    return {
        "id": f"msg_fake_{next(_message_numbers)}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": list(content),
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": dict(tokens or usage()),
    }


def text_message(text: str, **kwargs: Any) -> dict[str, Any]:
    return message([{"type": "text", "text": text}], **kwargs)


def tool_use_message(calls: Iterable[tuple[str, Mapping[str, Any]]], *, text: str | None = None,
                     **kwargs: Any) -> dict[str, Any]:
    """A response calling tools, each (name, input); ids are unique per message."""
    blocks: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
    for name, arguments in calls:
        blocks.append({"type": "tool_use", "id": f"toolu_{next(_message_numbers):06d}", "name": name,
                       "input": dict(arguments)})
    return message(blocks, stop_reason="tool_use", **kwargs)


def error_reply(status: int, error_type: str, text: str = "scripted failure", **kwargs: Any) -> FakeReply:
    return FakeReply(body={"type": "error", "error": {"type": error_type, "message": text}}, status=status, **kwargs)


class FakeAnthropic:
    """A threaded HTTP server answering POST /v1/messages from a scripted queue."""

    def __init__(self) -> None:
        self._replies: deque[FakeReply] = deque()
        self._lock = threading.Lock()
        self.requests: list[LoggedRequest] = []
        self.answered = 0  # replies sent; a held one counts only once released
        self.release = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-anthropic", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def push(self, *replies: FakeReply | Mapping[str, Any]) -> None:
        """Queue replies in order; a dict is a 200 Messages response body."""
        with self._lock:
            for reply in replies:
                self._replies.append(reply if isinstance(reply, FakeReply) else FakeReply(body=reply))

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._replies)

    @property
    def message_requests(self) -> list[dict[str, Any]]:
        return [logged.json for logged in self.requests if logged.path.startswith("/v1/messages")]

    def all_sent_text(self) -> str:
        """Every request body as sent, for asserting that something never left the machine."""
        return "\n".join(logged.text for logged in self.requests)

    def _next(self) -> FakeReply:
        with self._lock:
            if self._replies:
                return self._replies.popleft()
        return FakeReply(
            body={"type": "error", "error": {"type": "invalid_request_error", "message": "fake server: script exhausted"}},
            status=400,
        )

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                text = self.rfile.read(length).decode("utf-8")
                with fake._lock:
                    fake.requests.append(
                        LoggedRequest("POST", self.path, {name.lower(): value for name, value in self.headers.items()}, text))
                reply = fake._next()
                if reply.held:
                    fake.release.wait()
                with fake._lock:
                    fake.answered += 1
                try:
                    self._answer(reply)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client gave up (cancelled or timed out)

            def _answer(self, reply: FakeReply) -> None:
                payload = reply.payload()
                self.send_response(reply.status)
                self.send_header("content-type", "application/json")
                self.send_header("request-id", "req_fake")
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(payload)))
                if reply.truncate:
                    self.send_header("connection", "close")
                    self.end_headers()
                    self.wfile.write(payload[: len(payload) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.end_headers()
                self.wfile.write(payload)

        return Handler

    def __enter__(self) -> FakeAnthropic:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def fake_anthropic(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAnthropic]:
    """A running fake, with the key, endpoint and fast retries the LLM client reads from the environment."""
    with FakeAnthropic() as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-fake-key-not-a-secret")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.base_url)
        monkeypatch.setenv("HALO_LLM_RETRY_DELAY", "0.01")
        monkeypatch.setenv("HALO_LLM_MAX_RETRIES", "2")
        yield server


SPAN_DEFAULTS: dict[str, Any] = {
    "parent_span_id": None,
    "kind": "internal",
    "status_code": "unset",
    "span_type": "other",
    "service_name": "svc",
    "agent_name": "planner",
    "agent_uuid": "00000000-0000-5000-8000-000000000001",
    "counts_usage": True,
    "attributes": "{}",
    "resource_attributes": "{}",
    "events": "[]",
    "links": "[]",
}


def write_spans_parquet(path: Path, spans: Iterable[Mapping[str, Any]]) -> Path:
    """A snapshot Parquet file with exactly the `spans` table's columns, from partial rows.

    Each row needs trace_id, span_id, name, start_ns; end_ns defaults to start + duration_ms.
    """
    connection = duckdb.connect(":memory:")
    try:
        connection.execute(SCHEMA_SQL.read_text(encoding="utf-8"))
        columns = [row[0] for row in connection.execute("DESCRIBE spans").fetchall()]
        for given in spans:
            row = {**SPAN_DEFAULTS, **given}
            duration_ms = row.get("duration_ms", 10.0)
            row.setdefault("end_ns", None if duration_ms is None else row["start_ns"] + int(duration_ms * 1e6))
            row["duration_ms"] = duration_ms
            names = [name for name in columns if name in row]
            values = ", ".join(f"${name}" for name in names)
            time_columns = "start_time, end_time, " if "start_time" not in row else ""
            time_values = "make_timestamp($start_ns // 1000), make_timestamp($end_ns // 1000), " if time_columns else ""
            connection.execute(
                f"INSERT INTO spans ({time_columns}{', '.join(names)}) VALUES ({time_values}{values})",
                {name: row[name] for name in names},
            )
        connection.execute("COPY spans TO $path (FORMAT parquet)", {"path": str(path)})
    finally:
        connection.close()
    return path
