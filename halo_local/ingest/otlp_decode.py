"""Decoding for `otlp_binary`: OTLP protobuf messages → OTLP/JSON lines, zstd → bytes.

Each message becomes one line of OTLP/JSON (hex ids, int64 as strings, enums as numbers), the form the
JSON reader takes. Imported only for files that need it: protobuf and zstandard take a while to load.
"""

from __future__ import annotations

import base64
import json
import math
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import zstandard
from google.protobuf.message import DecodeError
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, Span, TracesData

from halo_local.errors import InvalidTraceFileError, NotTraceFileError
from halo_local.ingest.limits import (
    DECOMPRESSED_LIMIT_ENV,
    DEFAULT_DECOMPRESSED_LIMIT,
    DecompressedStream,
    size_setting,
)
from halo_local.ingest.otlp_binary import SNIFF_BYTES, ZSTD_MAGIC, IterStream, prepend, sniff

_LENGTH_PREFIX = struct.Struct(">I")


def json_lines(path: Path, stream: BinaryIO, kind: str) -> Iterator[bytes]:
    """The OTLP/JSON lines of a file whose first bytes `otlp_binary.sniff` called `kind`."""
    if kind == "zstd":
        limit = size_setting(DECOMPRESSED_LIMIT_ENV, DEFAULT_DECOMPRESSED_LIMIT)
        inner = DecompressedStream(
            zstandard.ZstdDecompressor().stream_reader(stream, read_across_frames=True), path, limit)
        try:
            head = inner.read(SNIFF_BYTES)
        except zstandard.ZstdError as error:
            raise InvalidTraceFileError(str(path), f"is zstd but cannot be decompressed ({error})") from error
        inner_kind = sniff(head, None)
        chunks = prepend(head, inner)
        if inner_kind is None:
            yield from _guarded(path, "zstd", chunks)
        else:
            yield from json_lines(path, IterStream(_guarded(path, "zstd", chunks)).buffered, inner_kind)
    elif kind == "records":
        yield from _records(path, stream)
    else:
        body = stream.read()
        try:
            yield _message_line(path, body, record=1, what="OTLP protobuf")
        except InvalidTraceFileError as error:
            # Other tools write .pb files too (models, descriptors): in a folder, leave them alone.
            raise NotTraceFileError(str(path), error.reason, hint=error.hint) from error


def _records(path: Path, stream: BinaryIO) -> Iterator[bytes]:
    """Each length-prefixed record as one JSON line; a record is zstd, protobuf or JSON."""
    number = 0
    offset = 0
    while True:
        prefix = stream.read(4)
        if not prefix:
            return
        number += 1
        if len(prefix) < 4:
            raise _cut_short(path, number, offset)
        (length,) = _LENGTH_PREFIX.unpack(prefix)
        body = stream.read(length)
        if len(body) < length:
            raise _cut_short(path, number, offset)
        offset += 4 + length
        what = "an OTLP protobuf record"
        if body.startswith(ZSTD_MAGIC):
            try:
                limit = size_setting(DECOMPRESSED_LIMIT_ENV, DEFAULT_DECOMPRESSED_LIMIT)
                body = DecompressedStream(zstandard.ZstdDecompressor().stream_reader(body), path, limit).read()
            except zstandard.ZstdError as error:
                raise InvalidTraceFileError(
                    str(path), f"record {number} is zstd but cannot be decompressed ({error})",
                    line=number) from error
            what = "a zstd OTLP record"
        if body.lstrip()[:1] in (b"{", b"["):
            yield body.replace(b"\r", b" ").replace(b"\n", b" ") + b"\n"
        else:
            yield _message_line(path, body, record=number, what=what)


def _cut_short(path: Path, number: int, offset: int) -> InvalidTraceFileError:
    return InvalidTraceFileError(
        str(path), f"is OTLP length-prefixed records (Collector file exporter) cut short: record {number} "
        f"at byte {offset} ends before its length says", line=number,
        hint="a file still being written loads once complete; otherwise the file was truncated")


def _message_line(path: Path, body: bytes, *, record: int, what: str) -> bytes:
    """One TracesData / ExportTraceServiceRequest message → one OTLP/JSON line."""
    message = TracesData()
    try:
        message.ParseFromString(body)
    except DecodeError as error:
        raise InvalidTraceFileError(
            str(path), f"is {what} that cannot be decoded ({error})", line=record,
            hint="halo-local reads OTLP trace protobuf (ExportTraceServiceRequest or TracesData)") from error
    return json.dumps(traces_document(message), separators=(",", ":"), allow_nan=False).encode() + b"\n"


def traces_document(message: TracesData) -> dict[str, Any]:
    """The OTLP/JSON document of a TracesData (or ExportTraceServiceRequest) message."""
    return {"resourceSpans": [_resource_spans(item) for item in message.resource_spans]}


def _resource_spans(item: ResourceSpans) -> dict[str, Any]:
    return {
        "resource": {"attributes": _attributes(item.resource.attributes)},
        "scopeSpans": [
            {"scope": {"name": scope.scope.name, "version": scope.scope.version},
             "spans": [_span(span) for span in scope.spans]}
            for scope in item.scope_spans
        ],
    }


def _span(span: Span) -> dict[str, Any]:
    document: dict[str, Any] = {
        "traceId": span.trace_id.hex(),
        "spanId": span.span_id.hex(),
        "name": span.name,
        "kind": span.kind,
        "startTimeUnixNano": str(span.start_time_unix_nano),
        "endTimeUnixNano": str(span.end_time_unix_nano),
        "attributes": _attributes(span.attributes),
        "status": {"code": span.status.code, "message": span.status.message},
    }
    if span.parent_span_id:
        document["parentSpanId"] = span.parent_span_id.hex()
    if span.trace_state:
        document["traceState"] = span.trace_state
    if span.events:
        document["events"] = [
            {"timeUnixNano": str(event.time_unix_nano), "name": event.name,
             "attributes": _attributes(event.attributes)}
            for event in span.events
        ]
    if span.links:
        document["links"] = [
            {"traceId": link.trace_id.hex(), "spanId": link.span_id.hex(), "traceState": link.trace_state,
             "attributes": _attributes(link.attributes)}
            for link in span.links
        ]
    return document


def _attributes(pairs: Any) -> list[dict[str, Any]]:
    return [{"key": pair.key, "value": _any_value(pair.value)} for pair in pairs]


def _any_value(value: AnyValue) -> dict[str, Any]:
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return {"stringValue": value.string_value}
    if kind == "int_value":
        return {"intValue": str(value.int_value)}
    if kind == "bool_value":
        return {"boolValue": value.bool_value}
    if kind == "double_value":
        number = value.double_value
        return {"doubleValue": number if math.isfinite(number) else str(number)}
    if kind == "array_value":
        return {"arrayValue": {"values": [_any_value(item) for item in value.array_value.values]}}
    if kind == "kvlist_value":
        return {"kvlistValue": {"values": _attributes(value.kvlist_value.values)}}
    if kind == "bytes_value":
        return {"bytesValue": base64.b64encode(value.bytes_value).decode("ascii")}
    return {}


def _guarded(path: Path, what: str, chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The chunks, with a decompression failure part-way named as a failure of this file."""
    try:
        yield from chunks
    except zstandard.ZstdError as error:
        raise InvalidTraceFileError(str(path), f"is {what} but cannot be decompressed ({error})") from error
