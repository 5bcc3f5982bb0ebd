"""OTLP/HTTP request and response bodies: what a POST /v1/traces carries and what it is answered.

A body is checked before it is spooled so that the ingester never meets a record it cannot load:
a malformed body is refused whole (400), and spans the loader would refuse (no trace or span id)
are taken out and counted in `partialSuccess.rejectedSpans`. Ids of unusual length are kept, as the
file loader keeps them.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

PROTOBUF = "application/x-protobuf"
JSON = "application/json"


class RequestRefused(Exception):
    """A request answered with an HTTP error status and a message."""

    def __init__(self, status: int, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


@dataclass(frozen=True)
class AcceptedBatch:
    """What to spool for one request (None when it held no span to keep) and the span counts."""

    record: bytes | None
    spans: int
    rejected: int


def media_type(header: str | None) -> str:
    """`application/json; charset=utf-8` → `application/json`."""
    return (header or "").split(";", 1)[0].strip().lower()


def decompress(body: bytes, encoding: str | None, max_bytes: int) -> bytes:
    """The body without its Content-Encoding (gzip or none), refused past `max_bytes` once decompressed."""
    encoding = (encoding or "identity").strip().lower()
    if encoding in ("identity", ""):
        return body
    if encoding != "gzip":
        raise RequestRefused(415, f"unsupported Content-Encoding {encoding!r}: send gzip or none")
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, max_bytes + 1)
    except zlib.error as error:
        raise RequestRefused(400, f"the body is not valid gzip ({error})") from error
    if len(data) > max_bytes:
        raise RequestRefused(413, f"the body is over {max_bytes:,} bytes once decompressed")
    if not inflater.eof:
        raise RequestRefused(400, "the gzip body is cut short")
    return data


def accept(body: bytes, content_type: str) -> AcceptedBatch:
    """Check a decompressed body of `content_type` and keep its good spans."""
    if content_type == PROTOBUF:
        return _accept_protobuf(body)
    if content_type == JSON:
        return _accept_json(body)
    raise RequestRefused(415, f"unsupported Content-Type {content_type or 'none'!r}: send {PROTOBUF} or {JSON}")


def _accept_protobuf(body: bytes) -> AcceptedBatch:
    request = ExportTraceServiceRequest()
    try:
        request.ParseFromString(body)
    except DecodeError as error:
        raise RequestRefused(400, f"the body is not an OTLP ExportTraceServiceRequest ({error})") from error
    spans = rejected = 0
    for resource_spans in request.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            bad = [index for index, span in enumerate(scope_spans.spans) if not span.trace_id or not span.span_id]
            for index in reversed(bad):
                del scope_spans.spans[index]
            spans += len(scope_spans.spans)
            rejected += len(bad)
    if not spans:
        return AcceptedBatch(None, 0, rejected)
    return AcceptedBatch(request.SerializeToString() if rejected else body, spans, rejected)


def _accept_json(body: bytes) -> AcceptedBatch:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as error:
        raise RequestRefused(400, f"the body is not valid JSON ({error})") from error
    if not isinstance(document, dict):
        raise RequestRefused(400, "the body is not an OTLP/JSON ExportTraceServiceRequest (not an object)")
    spans = rejected = 0
    for scope_spans in _json_scope_spans(document):
        kept = [span for span in scope_spans["spans"] if _good_json_span(span)]
        rejected += len(scope_spans["spans"]) - len(kept)
        spans += len(kept)
        scope_spans["spans"] = kept
    if not spans:
        return AcceptedBatch(None, 0, rejected)
    record = json.dumps(document, separators=(",", ":")).encode() if rejected else body
    return AcceptedBatch(record, spans, rejected)


def _json_scope_spans(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Every scopeSpans object of the document whose spans are a list; a wrong shape is a 400."""
    found = []
    for resource_spans in _json_list(document, "resourceSpans", "resource_spans"):
        for scope_spans in _json_list(resource_spans, "scopeSpans", "scope_spans", "instrumentationLibrarySpans"):
            scope_spans["spans"] = _json_list(scope_spans, "spans")
            found.append(scope_spans)
    return found


def _json_list(parent: Any, *keys: str) -> list[Any]:
    if not isinstance(parent, dict):
        raise RequestRefused(400, "the body is not an OTLP/JSON ExportTraceServiceRequest (a list item is no object)")
    for key in keys:
        if key in parent:
            value = parent[key]
            if not isinstance(value, list):
                raise RequestRefused(400, f"the body is not an OTLP/JSON ExportTraceServiceRequest ({key} is no list)")
            return value
    return []


def _good_json_span(span: Any) -> bool:
    return (isinstance(span, dict) and isinstance(span.get("traceId"), str) and bool(span["traceId"])
            and isinstance(span.get("spanId"), str) and bool(span["spanId"]))


def success_body(content_type: str, rejected: int) -> bytes:
    """The ExportTraceServiceResponse, with partialSuccess only when spans were rejected."""
    message = "spans without a trace id or a span id were left out"
    if content_type == PROTOBUF:
        response = ExportTraceServiceResponse()
        if rejected:
            response.partial_success.CopyFrom(ExportTracePartialSuccess(rejected_spans=rejected, error_message=message))
        serialized: bytes = response.SerializeToString()
        return serialized
    document: dict[str, Any] = {}
    if rejected:
        document["partialSuccess"] = {"rejectedSpans": str(rejected), "errorMessage": message}
    return json.dumps(document).encode()


def json_document(document: dict[str, Any]) -> bytes:
    return json.dumps(document).encode()


def error_body(content_type: str, status: int, message: str) -> tuple[bytes, str]:
    """A google.rpc.Status (code, message) in the request's encoding, and its Content-Type."""
    if content_type == PROTOBUF:
        text = message.encode()
        return b"\x08" + _varint(status) + b"\x12" + _varint(len(text)) + text, PROTOBUF
    return json.dumps({"code": status, "message": message}).encode(), JSON


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)

