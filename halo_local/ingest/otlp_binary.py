"""Binary trace files → OTLP/JSON lines, so that they are read and normalized exactly like JSON exports.

Recognised by their first bytes, whatever their name:
- zstd (a whole file compressed with `zstd`, holding any format halo-local reads);
- the Collector file exporter's `format: proto` and any `compression: zstd` output: records, each a
  4-byte big-endian length and then that many bytes, a TracesData message or an OTLP/JSON document,
  either possibly a zstd frame of its own;
- one OTLP protobuf message (`.pb`, `.binpb`: an ExportTraceServiceRequest or TracesData, which share
  their wire form), e.g. a captured OTLP/HTTP request body.

Each message becomes one line of OTLP/JSON (hex ids, int64 as strings, enums as numbers), the form the
JSON reader takes, so a record's "line" in an error is its position in the file.
"""

from __future__ import annotations

import base64
import io
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

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_LENGTH_PREFIX = struct.Struct(">I")
_SNIFF_BYTES = 4096
_READ_CHUNK = 1 << 20
_TEXT_CONTROL_BYTES = frozenset(range(0x20)) - {0x09, 0x0A, 0x0D}


def sniff(head: bytes, total_size: int | None) -> str | None:
    """What binary form `head` (the first bytes of a file) opens, or None for text (JSON).

    "zstd", "records" (length-prefixed, the file exporter's) or "protobuf"; `total_size` (None when
    unknown, as inside a compressed stream) rules out a length prefix longer than the file.
    """
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    # A message opens with field 1 (0x0a); a record length opening with that byte would be over 160 MB.
    if head[:1] == b"\x0a" and _looks_binary(head):
        return "protobuf"
    if len(head) >= 5:
        (length,) = _LENGTH_PREFIX.unpack_from(head)
        first = head[4:5]
        # Text never opens with a NUL byte; a record of under 16 MiB does, also in a file cut short.
        fits = total_size is None or 4 + length <= total_size or head[0] == 0
        if length and fits and (first in (b"\x0a", b"{") or head[4:8] == ZSTD_MAGIC):
            return "records"
    return None


def _looks_binary(head: bytes) -> bool:
    """Text files (JSON) hold no control bytes but tab and newlines, and are UTF-8 (the last few bytes may
    be a character cut by the sniff)."""
    sample = head[:_SNIFF_BYTES]
    if any(byte in _TEXT_CONTROL_BYTES for byte in sample):
        return True
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.start < len(sample) - 4
    return False


def decoded_stream(path: Path, stream: BinaryIO, size: int | None) -> BinaryIO:
    """`stream` as it is when it holds text; otherwise a stream of the OTLP/JSON lines it decodes to.

    `size` is the file's size for a seekable `stream` (the raw file), None for a decompressed one.
    """
    head = stream.read(_SNIFF_BYTES)
    kind = sniff(head, size)
    if size is not None:
        stream.seek(0)
        if kind is None:
            return stream
        return io.BufferedReader(_ChunkStream(_json_lines(path, stream, kind, size)), buffer_size=_READ_CHUNK)
    rest = _IterStream(_prepend(head, stream))
    if kind is None:
        return rest.buffered
    return io.BufferedReader(_ChunkStream(_json_lines(path, rest, kind, None)), buffer_size=_READ_CHUNK)


def _json_lines(path: Path, stream: BinaryIO, kind: str, size: int | None) -> Iterator[bytes]:
    if kind == "zstd":
        inner = zstandard.ZstdDecompressor().stream_reader(stream, read_across_frames=True)
        try:
            head = inner.read(_SNIFF_BYTES)
        except zstandard.ZstdError as error:
            raise InvalidTraceFileError(str(path), f"is zstd but cannot be decompressed ({error})") from error
        inner_kind = sniff(head, None)
        chunks = _prepend(head, inner)
        if inner_kind is None:
            yield from _guarded(path, "zstd", chunks)
        else:
            yield from _json_lines(path, _IterStream(_guarded(path, "zstd", chunks)), inner_kind, None)
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
                body = zstandard.ZstdDecompressor().decompressobj().decompress(body)
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


# --- Streams ---------------------------------------------------------------------------------------


def _prepend(head: bytes, stream: Any) -> Iterator[bytes]:
    if head:
        yield head
    while chunk := stream.read(_READ_CHUNK):
        yield chunk


def _guarded(path: Path, what: str, chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The chunks, with a decompression failure part-way named as a failure of this file."""
    try:
        yield from chunks
    except zstandard.ZstdError as error:
        raise InvalidTraceFileError(str(path), f"is {what} but cannot be decompressed ({error})") from error


class _ChunkStream(io.RawIOBase):
    """A readable raw stream over an iterator of byte chunks."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = memoryview(chunk)
        count = min(len(target), len(self._pending))
        target[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count


class _IterStream:
    """The minimal `read(n)` over an iterator of chunks that `_json_lines` needs for nested forms."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.buffered = io.BufferedReader(_ChunkStream(chunks), buffer_size=_READ_CHUNK)

    def read(self, size: int = -1) -> bytes:
        return self.buffered.read(size)
