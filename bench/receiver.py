"""Receiver benchmark: OTLP/HTTP exports into `halo-local serve` beside `traces load` of the same spans.

Generates --spans spans with bench/ingest.py's generator (~400 spans a line, about the SDK's batch of
512), turns each line into one protobuf ExportTraceServiceRequest (protobuf's json_format), and for
1, 4 and 16 concurrent exporters (threads, one keep-alive connection each) posts them all to a fresh
`halo-local serve`: spans per second acknowledged, p50/p99 acknowledgement latency, the server's CPU
seconds, and how long after the last acknowledgement the store held every span. In the same run,
`traces load` of the same spans from the OTLP/JSON Lines file and from a file-exporter proto file.

Usage: python bench/receiver.py [--spans 100000] [--out bench/out]
Not run by CI. Figures go in the README.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _options import path_option, run_with_fire, whole_number  # noqa: E402
from ingest import generate  # noqa: E402  (bench/ is not a package)

CONCURRENCY = (1, 4, 16)
DEFAULT_OUT = Path(__file__).resolve().parent / "out"
_LISTENING = re.compile(r"Listening on http://([0-9.]+):(\d+)")
_ID_KEYS = ("traceId", "spanId", "parentSpanId")


def _base64_ids(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: base64.b64encode(bytes.fromhex(value)).decode() if key in _ID_KEYS and value else _base64_ids(value)
                for key, value in node.items()}
    if isinstance(node, list):
        return [_base64_ids(item) for item in node]
    return node


def protobuf_requests(otlp_path: Path) -> list[tuple[bytes, int]]:
    """(serialized request, spans) per line of the OTLP/JSON Lines file."""
    requests = []
    for line in otlp_path.read_text(encoding="utf-8").splitlines():
        message = json_format.ParseDict(_base64_ids(json.loads(line)), ExportTraceServiceRequest())
        spans = sum(len(scope.spans) for resource in message.resource_spans for scope in resource.scope_spans)
        requests.append((message.SerializeToString(), spans))
    return requests


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def health(port: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=60) as response:
        return json.loads(response.read())


def run_receiver(requests: list[tuple[bytes, int]], exporters: int, home: Path) -> dict[str, Any]:
    env = {**os.environ, "HALO_HOME": str(home)}
    server = subprocess.Popen([sys.executable, "-m", "halo_local", "serve", "--port", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert server.stdout is not None
    match = _LISTENING.search(server.stdout.readline())
    assert match, "serve did not start"
    port = int(match.group(2))
    latencies: list[float] = []
    statuses: list[int] = []
    lock = threading.Lock()

    def export(share: list[tuple[bytes, int]]) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        mine = []
        for body, _ in share:
            started = time.perf_counter()
            connection.request("POST", "/v1/traces", body=body, headers={"Content-Type": "application/x-protobuf"})
            response = connection.getresponse()
            response.read()
            mine.append((time.perf_counter() - started, response.status))
        connection.close()
        with lock:
            latencies.extend(latency for latency, _ in mine)
            statuses.extend(status for _, status in mine)

    threads = [threading.Thread(target=export, args=(requests[index::exporters],)) for index in range(exporters)]
    cpu_before = cpu_seconds(server.pid)
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    accept_seconds = time.perf_counter() - started
    cpu_accepting = cpu_seconds(server.pid) - cpu_before
    while health(port)["spoolBacklogBytes"]:
        time.sleep(0.05)
    stored_after = time.perf_counter() - started - accept_seconds
    cpu_total = cpu_seconds(server.pid) - cpu_before
    status = health(port)
    server.terminate()
    server.communicate(timeout=300)
    ordered = sorted(latencies)
    spans = sum(count for _, count in requests)
    return {
        "exporters": exporters, "requests": len(requests), "spans": spans,
        "non200": sum(1 for code in statuses if code != 200),
        "acceptSeconds": accept_seconds, "spansPerSecond": spans / accept_seconds,
        "p50Ms": statistics.median(ordered) * 1000, "p99Ms": ordered[int(0.99 * (len(ordered) - 1))] * 1000,
        "serverCpuSecondsAccepting": cpu_accepting, "storedSecondsAfterLastAck": stored_after,
        "serverCpuSecondsTotal": cpu_total, "spansStored": status["spansStored"],
    }


def run_load(path: Path, home: Path) -> dict[str, Any]:
    env = {**os.environ, "HALO_HOME": str(home)}
    before = os.times()
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "halo_local", "traces", "load", str(path), "--json"],
                          capture_output=True, text=True, check=True, env=env)
    seconds = time.perf_counter() - started
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    spans = json.loads(done.stdout)["spansNew"]
    return {"file": path.name, "spans": spans, "seconds": seconds, "spansPerSecond": spans / seconds, "cpuSeconds": cpu}


@dataclass(frozen=True)
class Options:
    """The command line, typed (fire guesses each value's type from its look)."""

    spans: int
    out: Path


def main(spans: int = 100_000, out: str | Path = DEFAULT_OUT) -> None:
    options = Options(spans=whole_number(spans, "--spans"), out=path_option(out))
    otlp_path, _ = generate(options.spans, options.out)
    requests = protobuf_requests(otlp_path)
    proto_bytes = sum(len(body) for body, _ in requests)
    print(f"{options.spans:,} spans in {len(requests)} requests; {os.cpu_count()} cores; "
          f"{proto_bytes / options.spans:.0f} bytes/span as protobuf, "
          f"{otlp_path.stat().st_size / options.spans:.0f} as OTLP/JSON")
    results: dict[str, Any] = {"spans": options.spans, "cores": os.cpu_count(), "receiver": [], "load": []}
    with tempfile.TemporaryDirectory() as scratch:
        for exporters in CONCURRENCY:
            row = run_receiver(requests, exporters, Path(scratch) / f"serve-{exporters}")
            results["receiver"].append(row)
            print(f"serve, {exporters:>2} exporters: {row['spansPerSecond']:>9,.0f} spans/s acknowledged "
                  f"({row['acceptSeconds']:.2f} s, server CPU {row['serverCpuSecondsAccepting']:.2f} s), "
                  f"ack p50 {row['p50Ms']:.1f} ms p99 {row['p99Ms']:.1f} ms, non-200 {row['non200']}; "
                  f"all stored {row['storedSecondsAfterLastAck']:.2f} s after the last ack "
                  f"(server CPU in all {row['serverCpuSecondsTotal']:.2f} s)")
        proto_file = Path(scratch) / "collector-export.pb"
        proto_file.write_bytes(b"".join(struct.pack(">I", len(body)) + body for body, _ in requests))
        for path in (otlp_path, proto_file):
            row = run_load(path, Path(scratch) / f"load-{path.name}")
            results["load"].append(row)
            print(f"traces load {row['file']}: {row['spansPerSecond']:>9,.0f} spans/s ({row['seconds']:.2f} s, "
                  f"CPU {row['cpuSeconds']:.2f} s)")
    options.out.mkdir(parents=True, exist_ok=True)
    (options.out / "receiver.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    run_with_fire(main, __doc__)
