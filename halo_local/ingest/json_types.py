"""The json_transform types the readers parse OTLP/JSON documents and HALO JSONL spans with.

Every field is typed explicitly (schema inference samples lines and drops what it did not see); ids and
int64 stay text, to be converted exactly by the readers' macros.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

_ANY_VALUE_TYPE = {
    "stringValue": "VARCHAR",
    "boolValue": "BOOLEAN",
    "intValue": "VARCHAR",
    "doubleValue": "DOUBLE",
    "bytesValue": "VARCHAR",
    "arrayValue": "JSON",
    "kvlistValue": "JSON",
}
_KEY_VALUES_TYPE = [{"key": "VARCHAR", "value": _ANY_VALUE_TYPE}]
_SCOPE_TYPE = {"name": "VARCHAR", "version": "VARCHAR"}
_SPAN_TYPE = {
    "traceId": "VARCHAR",
    "spanId": "VARCHAR",
    "parentSpanId": "VARCHAR",
    "traceState": "VARCHAR",
    "name": "VARCHAR",
    "kind": "VARCHAR",
    "startTimeUnixNano": "VARCHAR",
    "endTimeUnixNano": "VARCHAR",
    "attributes": _KEY_VALUES_TYPE,
    "events": [{"timeUnixNano": "VARCHAR", "name": "VARCHAR", "attributes": _KEY_VALUES_TYPE}],
    "links": [
        {"traceId": "VARCHAR", "spanId": "VARCHAR", "traceState": "VARCHAR", "attributes": _KEY_VALUES_TYPE}
    ],
    "status": {"code": "VARCHAR", "message": "VARCHAR"},
}
RESOURCE_SPANS_KEYS = ("resourceSpans", "resource_spans", "batches")
SCOPE_SPANS_KEYS = ("scopeSpans", "scope_spans", "instrumentationLibrarySpans")
SCOPE_KEYS = ("scope", "instrumentationLibrary")
"""The alternative names of OTLP/JSON's containers (proto3 JSON, snake case, Tempo and old instrumentation),
in the order otlp_stage.sql prefers them."""


@dataclass(frozen=True)
class ContainerKeys:
    """The container names otlp_stage.sql reads a batch with: those its lines may hold (a name no line
    holds is NULL in every document, so leaving it out changes no row), the preferred one always."""

    resource_keys: tuple[str, ...] = RESOURCE_SPANS_KEYS
    scope_spans_keys: tuple[str, ...] = SCOPE_SPANS_KEYS
    scope_keys: tuple[str, ...] = SCOPE_KEYS


@functools.lru_cache(maxsize=64)
def otlp_document_type(keys: ContainerKeys = ContainerKeys()) -> str:
    """json_transform type of one OTLP/JSON document with these containers: every field typed, ids and
    int64 as text."""
    scope_spans = {**{key: _SCOPE_TYPE for key in keys.scope_keys}, "spans": [_SPAN_TYPE]}
    resource_spans = {"resource": {"attributes": _KEY_VALUES_TYPE},
                      **{key: [scope_spans] for key in keys.scope_spans_keys}}
    return json.dumps({key: [resource_spans] for key in keys.resource_keys})


OTLP_DOCUMENT_TYPE = otlp_document_type()
"""json_transform type of one OTLP/JSON document holding any of the containers' names."""

HALO_RECORD_TYPE = json.dumps(
    {
        "trace_id": "VARCHAR",
        "span_id": "VARCHAR",
        "parent_span_id": "VARCHAR",
        "trace_state": "VARCHAR",
        "name": "VARCHAR",
        "kind": "VARCHAR",
        "start_time": "VARCHAR",
        "end_time": "VARCHAR",
        "status": {"code": "VARCHAR", "message": "VARCHAR"},
        "resource": {"attributes": "JSON"},
        "scope": {"name": "VARCHAR", "version": "VARCHAR"},
        "attributes": "JSON",
        "events": "JSON",
        "links": "JSON",
    }
)
"""json_transform type of one HALO JSONL span; attributes stay JSON as written."""
