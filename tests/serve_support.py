"""Helpers for the receiver's tests: a real `halo-local serve` subprocess and a toy agent instrumented
with the real OpenTelemetry SDK and its OTLP/HTTP exporter."""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.protobuf.json_format import MessageToDict
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind, Status, StatusCode

_LISTENING = re.compile(r"Listening on (http://[0-9.]+:\d+)")
STARTUP_TIMEOUT_SECONDS = 60


@dataclass
class ServeProcess:
    process: subprocess.Popen[str]
    url: str

    @property
    def endpoint(self) -> str:
        return self.url + "/v1/traces"

    def stop(self) -> tuple[int, str, str]:
        """SIGTERM, then the exit code and what it printed."""
        self.process.send_signal(signal.SIGTERM)
        out, err = self.process.communicate(timeout=120)
        return self.process.returncode, out, err


def start_serve(home: Path, *flags: str) -> ServeProcess:
    """`halo-local serve --port 0` as a subprocess; returns once it says where it listens."""
    env = {**os.environ, "HALO_HOME": str(home)}
    process = subprocess.Popen([sys.executable, "-m", "halo_local", "serve", "--port", "0", *flags],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    line = process.stdout.readline()  # blocks until the notice, or EOF if it failed to start
    match = _LISTENING.search(line)
    if match is None:
        process.kill()
        out, err = process.communicate(timeout=30)
        raise AssertionError(f"serve did not start: {line!r} {out!r} {err!r}")
    return ServeProcess(process, match.group(1))


@contextmanager
def serving(home: Path, *flags: str) -> Iterator[ServeProcess]:
    server = start_serve(home, *flags)
    try:
        yield server
    finally:
        if server.process.poll() is None:
            server.stop()


def run_cli(home: Path, *args: str) -> Any:
    """A CLI command as a subprocess, with --json; its document."""
    env = {**os.environ, "HALO_HOME": str(home)}
    done = subprocess.run([sys.executable, "-m", "halo_local", *args, "--json"], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def wait_for(condition: Any, *, what: str, timeout: float = 600) -> None:
    """Poll `condition()` until true; the timeout only guards against a hang (as runs_support.wait_until's)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


# --- The toy agent ---------------------------------------------------------------------------------


class RecordingExporter(SpanExporter):
    """Passes spans to the real exporter and keeps each export's result, so a failed export fails the test."""

    def __init__(self, inner: SpanExporter) -> None:
        self.inner = inner
        self.results: list[SpanExportResult] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        result = self.inner.export(spans)
        self.results.append(result)
        return result

    def shutdown(self) -> None:
        self.inner.shutdown()


class OtlpJsonExporter(SpanExporter):
    """OTLP/HTTP with JSON bodies. The Python SDK ships no JSON exporter, so this one encodes the spans with
    the SDK's own encoder, writes proto3 JSON with protobuf, turns ids into hex as OTLP/JSON requires,
    and posts with urllib."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        document = _hex_ids(MessageToDict(encode_spans(spans)))
        status, _, _ = post(self.endpoint, json.dumps(document).encode(), {"Content-Type": "application/json"})
        return SpanExportResult.SUCCESS if status == 200 else SpanExportResult.FAILURE

    def shutdown(self) -> None:
        pass


def _hex_ids(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: (base64.b64decode(value).hex() if key in ("traceId", "spanId", "parentSpanId") else _hex_ids(value))
                for key, value in node.items()}
    if isinstance(node, list):
        return [_hex_ids(item) for item in node]
    return node


TOY_AGENT = "ToyAgent"
TOY_SERVICE = "toy-agent-service"
TOY_TOOL = "search_docs"
TOY_TOOL_ERROR = "ToolError: the docs index is missing"
TOY_INPUT_TOKENS = 1200
TOY_OUTPUT_TOKENS = 345


def run_toy_agent(exporter: SpanExporter, question: str) -> str:
    """One agent turn: a GenAI chat span with usage and an OpenInference tool span that fails. Returns the
    trace id; every export must have succeeded."""
    recording = RecordingExporter(exporter)
    provider = TracerProvider(resource=Resource.create({"service.name": TOY_SERVICE}))
    provider.add_span_processor(BatchSpanProcessor(recording))
    tracer = provider.get_tracer("toy-agent", "1.0.0")
    with tracer.start_as_current_span(f"invoke_agent {TOY_AGENT}", attributes={
            "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": TOY_AGENT,
            "openinference.span.kind": "AGENT", "input.value": question}) as root:
        with tracer.start_as_current_span("chat gpt-4o-mini", kind=SpanKind.CLIENT, attributes={
                "gen_ai.operation.name": "chat", "gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o-mini",
                "gen_ai.response.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": TOY_INPUT_TOKENS,
                "gen_ai.usage.output_tokens": TOY_OUTPUT_TOKENS}):
            pass
        with tracer.start_as_current_span(TOY_TOOL, attributes={
                "openinference.span.kind": "TOOL", "tool.name": TOY_TOOL,
                "input.value": json.dumps({"query": question})}) as tool:
            tool.set_status(Status(StatusCode.ERROR, TOY_TOOL_ERROR))
        trace_id = format(root.get_span_context().trace_id, "032x")
    provider.shutdown()
    assert recording.results and all(result is SpanExportResult.SUCCESS for result in recording.results), (
        recording.results)
    return trace_id


# --- Synthetic batches -----------------------------------------------------------------------------


def numbered_request(batch: int, spans: int) -> tuple[bytes, list[str]]:
    """An ExportTraceServiceRequest of `spans` spans whose ids encode (batch, index); returns the span ids."""
    trace_id = (batch + 1).to_bytes(16, "big")
    made = []
    for index in range(spans):
        span_id = ((batch + 1) << 20 | index).to_bytes(8, "big")
        made.append(Span(trace_id=trace_id, span_id=span_id, name=f"step {index}", kind=Span.SPAN_KIND_INTERNAL,
                         start_time_unix_nano=1_767_225_600_000_000_000 + batch * 1_000_000 + index,
                         end_time_unix_nano=1_767_225_600_000_000_000 + batch * 1_000_000 + index + 500,
                         attributes=[KeyValue(key="gen_ai.operation.name", value=AnyValue(string_value="chat"))]))
    request = ExportTraceServiceRequest(resource_spans=[ResourceSpans(
        resource={"attributes": [KeyValue(key="service.name", value=AnyValue(string_value="stream-test"))]},
        scope_spans=[ScopeSpans(spans=made)])])
    return request.SerializeToString(), [span.span_id.hex() for span in made]


def keep_alive_post(connection: http.client.HTTPConnection, body: bytes) -> int:
    connection.request("POST", "/v1/traces", body=body, headers={"Content-Type": "application/x-protobuf"})
    response = connection.getresponse()
    response.read()
    return response.status
