"""`halo-local serve` end to end: real subprocesses, the real OpenTelemetry SDK, real DuckDB files."""

from __future__ import annotations

import gzip
import http.client
import json
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import pytest
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from otlp_support import json_documents, proto_from_json
from serve_support import (
    TOY_AGENT,
    TOY_INPUT_TOKENS,
    TOY_OUTPUT_TOKENS,
    TOY_SERVICE,
    TOY_TOOL,
    TOY_TOOL_ERROR,
    OtlpJsonExporter,
    keep_alive_post,
    numbered_request,
    post,
    run_cli,
    run_toy_agent,
    serving,
    start_serve,
    wait_for,
)

from halo_local import cli, traces
from halo_local.store import Store

PROTOBUF = {"Content-Type": "application/x-protobuf"}
REALISTIC = Path(__file__).parent / "fixtures" / "halo" / "realistic_traces.otlp.json"  # 58 spans


def test_the_sdk_exporter_reaches_agent_list_and_a_runs_report(isolated_home: Path) -> None:
    with serving(isolated_home) as server:
        trace_ids = [
            run_toy_agent(OTLPSpanExporter(endpoint=server.endpoint), "protobuf: what is the refund policy?"),
            run_toy_agent(OtlpJsonExporter(server.endpoint), "json: what is the refund policy?"),
            run_toy_agent(OTLPSpanExporter(endpoint=server.endpoint, compression=Compression.Gzip),
                          "gzip: what is the refund policy?"),
        ]
        # Stored within seconds, while the receiver runs: other commands open the database meanwhile. The
        # receiver's own count is polled (a CLI process per look cost ~0.3 CPU-s each).
        wait_for(lambda: run_health(server.url)["spansStored"] == 9, what="the three traces to be stored")
        agents = run_cli(isolated_home, "agent", "list", "--time-range", "all")
    (agent,) = agents
    assert (agent["name"], agent["serviceName"], agent["traceCount"], agent["spanCount"], agent["errorCount"]) == (
        TOY_AGENT, TOY_SERVICE, 3, 9, 3)
    assert json.dumps(run_cli(isolated_home, "trace", "get", trace_ids[0])).count(TOY_TOOL_ERROR) >= 1
    for trace_id in trace_ids[1:]:  # the other exporters' traces, read as `trace get` reads them
        assert json.dumps(traces.get_trace(Store(isolated_home), trace_id)).count(TOY_TOOL_ERROR) >= 1

    run = run_cli(isolated_home, "run", "create", "--agent-uuid", agent["agentUuid"], "--lookback-hours", "2",
                  "--no-llm", "--wait")
    assert run["status"] == "completed"
    report = Path(run["reportPath"]).read_text(encoding="utf-8")
    assert TOY_TOOL in report and TOY_TOOL_ERROR in report
    assert f"{3 * TOY_INPUT_TOKENS:,} in, {3 * TOY_OUTPUT_TOKENS:,} out" in report


def test_responses_follow_the_otlp_http_spec(isolated_home: Path) -> None:
    body, _ = numbered_request(0, 3)
    with serving(isolated_home, "--max-body", "4096") as server:
        status, _, reply = post(server.endpoint, body, PROTOBUF)
        assert status == 200
        assert not ExportTraceServiceResponse.FromString(reply).HasField("partial_success")

        missing_ids = ExportTraceServiceRequest.FromString(body)
        missing_ids.resource_spans[0].scope_spans[0].spans[1].span_id = b""
        status, _, reply = post(server.endpoint, missing_ids.SerializeToString(), PROTOBUF)
        assert status == 200
        assert ExportTraceServiceResponse.FromString(reply).partial_success.rejected_spans == 1

        status, _, reply = post(server.endpoint, json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [
            {"traceId": "ab" * 16, "name": "no span id"}]}]}]}).encode(), {"Content-Type": "application/json"})
        assert (status, json.loads(reply)["partialSuccess"]["rejectedSpans"]) == (200, "1")

        assert post(server.endpoint, b"\x0a\xff\xff\xff\x7f", PROTOBUF)[0] == 400
        assert post(server.endpoint, b"{not json", {"Content-Type": "application/json"})[0] == 400
        assert post(server.endpoint, b"\x1f\x8b not gzip", {**PROTOBUF, "Content-Encoding": "gzip"})[0] == 400
        assert post(server.endpoint, body, {"Content-Type": "text/plain"})[0] == 415
        assert post(server.endpoint, body, {**PROTOBUF, "Content-Encoding": "br"})[0] == 415
        assert post(server.endpoint, b"\x00" * 5000, PROTOBUF)[0] == 413
        assert post(server.endpoint, gzip.compress(b"\x00" * 50_000), {**PROTOBUF, "Content-Encoding": "gzip"})[0] == 413
        assert post(server.url + "/v1/metrics", body, PROTOBUF)[0] == 404

        health = run_health(server.url)
        assert (health["status"], health["spansReceived"], health["spansRejected"]) == ("ok", 5, 2)
        wait_for(lambda: run_health(server.url)["spansStored"] == 5, what="the spans to be stored")
        code, out, err = server.stop()
    assert code == 0, err
    assert "Spans received: 5 (rejected 2), stored: 5" in out


def run_health(url: str) -> dict:
    with urllib.request.urlopen(url + "/healthz", timeout=60) as response:
        return json.loads(response.read())


def test_a_token_is_required_beyond_loopback_and_checked(isolated_home: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    # Refused before anything starts: in this process (a `serve` process costs ~0.8 CPU-s to start).
    assert cli.main(["serve", "--host", "0.0.0.0", "--json"]) == 2
    assert "without --token" in json.loads(capsys.readouterr().out)["error"]["message"]

    body, _ = numbered_request(0, 1)
    with serving(isolated_home, "--token", "s3cret") as server:
        assert post(server.endpoint, body, PROTOBUF)[0] == 401
        assert post(server.endpoint, body, {**PROTOBUF, "Authorization": "Bearer wrong"})[0] == 401
        assert post(server.endpoint, body, {**PROTOBUF, "Authorization": "Bearer s3cret"})[0] == 200


def test_it_answers_503_with_retry_after_while_the_store_cannot_keep_up(isolated_home: Path) -> None:
    """Another process holds the database, so nothing leaves the spool: past --max-backlog, exports are
    told to retry; once the database is free, everything acknowledged is stored."""
    body, _ = numbered_request(0, 5)
    with serving(isolated_home, "--max-backlog", "1") as server:
        holder = subprocess.Popen(
            [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
             "sys.stdin.read()", str(isolated_home / "halo.duckdb")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            assert holder.stdout is not None and holder.stdout.readline() == "held\n"
            assert post(server.endpoint, body, PROTOBUF)[0] == 200
            status, headers, _ = post(server.endpoint, numbered_request(1, 5)[0], PROTOBUF)
            assert status == 503
            assert int(headers["Retry-After"]) > 0
        finally:
            holder.communicate(input="", timeout=60)
        wait_for(lambda: run_health(server.url)["spansStored"] == 5, what="the backlog to be stored")
        assert post(server.endpoint, numbered_request(1, 5)[0], PROTOBUF)[0] == 200


def test_kill_9_during_a_stream_loses_no_acknowledged_span_and_stores_none_twice(isolated_home: Path) -> None:
    """Three exporters stream batches; the receiver is killed while they do (some exports are in flight).
    After a restart, every span it acknowledged is stored, and no span twice."""
    server = start_serve(isolated_home)
    address = urlsplit(server.url)
    acknowledged: list[str] = []
    acknowledged_batches = threading.Semaphore(0)

    def stream(exporter: int) -> None:
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
        try:
            for batch in range(exporter * 10_000, exporter * 10_000 + 1_000):
                body, span_ids = numbered_request(batch, 50)
                try:
                    status = keep_alive_post(connection, body)
                except (ConnectionError, http.client.HTTPException):
                    return
                assert status == 200
                acknowledged.extend(span_ids)
                acknowledged_batches.release()
        finally:
            connection.close()

    exporters = [threading.Thread(target=stream, args=(number,)) for number in range(3)]
    for exporter in exporters:
        exporter.start()
    for _ in range(60):  # kill once 60 batches are acknowledged, whatever the machine's speed
        acknowledged_batches.acquire()
    server.process.kill()
    server.process.communicate(timeout=60)
    for exporter in exporters:
        exporter.join(timeout=120)
    assert 60 * 50 <= len(acknowledged) < 3 * 1_000 * 50

    restarted = start_serve(isolated_home)
    wait_for(lambda: run_health(restarted.url)["spoolBacklogBytes"] == 0, what="the spool to be stored")
    code, _, err = restarted.stop()
    assert code == 0, err
    with duckdb.connect(str(isolated_home / "halo.duckdb"), read_only=True) as database:
        stored_ids = [span_id for (span_id,) in database.execute("SELECT span_id FROM spans").fetchall()]
    assert len(stored_ids) == len(set(stored_ids))
    assert set(acknowledged) <= set(stored_ids)


def test_spans_sent_as_protobuf_are_stored_exactly_as_the_json_file_loads_them(tmp_path: Path) -> None:
    reference = tmp_path / "loaded"
    run_cli(reference, "traces", "load", str(REALISTIC))
    received = tmp_path / "received"
    with serving(received) as server:
        for document in json_documents(REALISTIC):
            assert post(server.endpoint, proto_from_json(document).SerializeToString(), PROTOBUF)[0] == 200
        wait_for(lambda: run_health(server.url)["spansStored"] == 58, what="the spans to be stored")
    assert stored_rows(received) == stored_rows(reference)


def stored_rows(home: Path) -> list[tuple]:
    """Every stored column but where and when the span was loaded from."""
    with duckdb.connect(str(home / "halo.duckdb"), read_only=True) as database:
        return database.execute("SELECT * EXCLUDE (source_file, loaded_at) FROM spans ORDER BY trace_id, span_id"
                                ).fetchall()
