"""OTLP protobuf test data made with the OpenTelemetry libraries themselves, not with halo-local's decoder.

`proto_from_json` turns an OTLP/JSON document into the protobuf message an SDK would send (protobuf's
own json_format parser; only the ids differ, hex in OTLP/JSON and base64 in proto3 JSON). The
file-exporter forms follow the Collector's `fileexporter`: each record is a 4-byte big-endian length
and the marshalled TracesData, compressed record by record with `compression: zstd`.
"""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path
from typing import Any

import zstandard
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

_ID_KEYS = ("traceId", "spanId", "parentSpanId")


def _hex_ids_to_base64(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: (base64.b64encode(bytes.fromhex(value)).decode() if key in _ID_KEYS and value else
                      _hex_ids_to_base64(value)) for key, value in node.items()}
    if isinstance(node, list):
        return [_hex_ids_to_base64(item) for item in node]
    return node


def proto_from_json(document: dict[str, Any]) -> ExportTraceServiceRequest:
    """The protobuf request holding the spans of an OTLP/JSON document."""
    return json_format.ParseDict(_hex_ids_to_base64(document), ExportTraceServiceRequest())


def json_documents(path: Path) -> list[dict[str, Any]]:
    """The OTLP/JSON documents of a file: one, or one per line."""
    text = path.read_text(encoding="utf-8")
    try:
        return [json.loads(text)]
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def length_prefixed(bodies: list[bytes], *, zstd: bool = False) -> bytes:
    """Records as the Collector file exporter writes them (`format: proto`, optionally `compression: zstd`)."""
    compressor = zstandard.ZstdCompressor()
    out = b""
    for body in bodies:
        data = compressor.compress(body) if zstd else body
        out += struct.pack(">I", len(data)) + data
    return out
