"""`halo-local serve` end to end: real subprocesses, the real OpenTelemetry SDK, real DuckDB files."""

from __future__ import annotations

import gzip
import http.client
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

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

PROTOBUF = {"Content-Type": "application/x-protobuf"}


def stored_traces(home: Path) -> int:
    agents = run_cli(home, "agent", "list", "--time-range", "all")
    return sum(agent["traceCount"] for agent in agents)


def test_the_sdk_exporter_reaches_agent_list_and_a_runs_report(isolated_home: Path) -> None:
    with serving(isolated_home) as server:
        trace_ids = [
            run_toy_agent(OTLPSpanExporter(endpoint=server.endpoint), "protobuf: what is the refund policy?"),
            run_toy_agent(OtlpJsonExporter(server.endpoint), "json: what is the refund policy?"),
            run_toy_agent(OTLPSpanExporter(endpoint=server.endpoint, compression=Compression.Gzip),
                          "gzip: what is the refund policy?"),
        ]
        # Stored within seconds, while the receiver runs: other commands open the database meanwhile.
        wait_for(lambda: stored_traces(isolated_home) == 3, what="the three traces to be stored")
        agents = run_cli(isolated_home, "agent", "list", "--time-range", "all")
    (agent,) = agents
    assert (agent["name"], agent["serviceName"], agent["traceCount"], agent["spanCount"], agent["errorCount"]) == (
        TOY_AGENT, TOY_SERVICE, 3, 9, 3)
    for trace_id in trace_ids:
        tree = run_cli(isolated_home, "trace", "get", trace_id)
        assert json.dumps(tree).count(TOY_TOOL_ERROR) >= 1

    run = run_cli(isolated_home, "run", "create", "--agent-uuid", agent["agentUuid"], "--lookback-hours", "2",
                  "--no-llm", "--wait")
    assert run["status"] == "completed"
    report = Path(run["reportPath"]).read_text(encoding="utf-8")
    assert TOY_TOOL in report and TOY_TOOL_ERROR in report
    assert f"{3 * TOY_INPUT_TOKENS:,} in, {3 * TOY_OUTPUT_TOKENS:,} out" in report
