"""AnyValue → plain JSON, checked against a Python model of the OTLP/JSON encoding on generated trees."""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from halo_local.ingest import readers
from halo_local.ingest.readers import read_trace_file

INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
KEYS = st.one_of(st.sampled_from(["a", "b", "gen_ai.prompt", ""]), st.text(max_size=8))


def scalar_anyvalues() -> st.SearchStrategy[tuple[dict[str, Any], Any]]:
    """(AnyValue as OTLP/JSON writes it, the plain JSON value it must decode to)."""
    return st.one_of(
        st.text().map(lambda text: ({"stringValue": text}, text)),
        INT64.map(lambda number: ({"intValue": str(number)}, number)),
        INT64.map(lambda number: ({"intValue": number}, number)),
        st.booleans().map(lambda flag: ({"boolValue": flag}, flag)),
        st.floats().map(lambda number: (_double_anyvalue(number), _double_json(number))),
        st.binary(max_size=16).map(lambda raw: base64.b64encode(raw).decode()).map(
            lambda encoded: ({"bytesValue": encoded}, encoded)
        ),
        st.just(({}, None)),
    )


def _double_anyvalue(number: float) -> dict[str, Any]:
    if math.isnan(number):
        return {"doubleValue": "NaN"}
    if math.isinf(number):
        return {"doubleValue": "Infinity" if number > 0 else "-Infinity"}
    return {"doubleValue": number}


def _double_json(number: float) -> Any:
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    return number


def containers(children: st.SearchStrategy) -> st.SearchStrategy[tuple[dict[str, Any], Any]]:
    def as_array(items: list[tuple[dict[str, Any], Any]]) -> tuple[dict[str, Any], Any]:
        return {"arrayValue": {"values": [value for value, _ in items]}}, [plain for _, plain in items]

    def as_kvlist(items: list[tuple[str, tuple[dict[str, Any], Any]]]) -> tuple[dict[str, Any], Any]:
        pairs = [{"key": key, "value": value} for key, (value, _) in items]
        return {"kvlistValue": {"values": pairs}}, {key: plain for key, (_, plain) in items}  # last wins

    return st.one_of(
        st.lists(children, max_size=4).map(as_array),
        st.lists(st.tuples(KEYS, children), max_size=4).map(as_kvlist),
    )


ANYVALUES = st.recursive(scalar_anyvalues(), containers, max_leaves=12)
ATTRIBUTE_LISTS = st.lists(st.tuples(KEYS, ANYVALUES), max_size=6)


def write_documents(path: Path, documents: list[list[list[tuple[str, tuple[dict[str, Any], Any]]]]]) -> None:
    """One OTLP/JSON document per line, each span's attribute list as generated; span ids number the spans
    across the file, so reading them back in span-id order gives them in generated order."""
    lines = []
    number = 0
    for spans_attributes in documents:
        spans = []
        for attributes in spans_attributes:
            number += 1
            spans.append({
                "traceId": "5b8efff798038103d269b633813fc60c",
                "spanId": f"{number:016x}",
                "name": "generated",
                "startTimeUnixNano": "1544712660000000000",
                "attributes": [{"key": key, "value": value} for key, (value, _) in attributes],
            })
        lines.append(json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# Each example is a file of several documents read in one go: the read's fixed cost (about 0.3 s) is paid
# once per example, not once per document, so 15 examples decode as many generated trees (some 60 documents
# of up to 6 spans) as 50 single-document examples did, for a third of the time.
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(documents=st.lists(st.lists(ATTRIBUTE_LISTS, min_size=1, max_size=6), min_size=1, max_size=8))
def test_generated_anyvalues_decode_to_plain_json(
    tmp_path: Path, documents: list[list[list[tuple[str, tuple[dict[str, Any], Any]]]]]
) -> None:
    path = tmp_path / "generated.jsonl"
    write_documents(path, documents)
    connection = duckdb.connect()
    try:
        read_trace_file(connection, path)
        texts = [row[0] for row in connection.execute("SELECT attributes FROM raw_spans ORDER BY span_id").fetchall()]
    finally:
        connection.close()
    expected = [{key: plain for key, (_, plain) in attributes}
                for spans_attributes in documents for attributes in spans_attributes]
    assert [json.loads(text) for text in texts] == expected


def test_values_nested_deeper_than_the_limit_stay_raw_anyvalue_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(readers, "MAX_ANYVALUE_DEPTH", 2)
    innermost = {"kvlistValue": {"values": [{"key": "k", "value": {"intValue": "7"}}]}}
    three_deep = {"arrayValue": {"values": [{"arrayValue": {"values": [innermost]}}]}}
    two_deep = {"arrayValue": {"values": [{"kvlistValue": {"values": [{"key": "k", "value": {"boolValue": True}}]}}]}}
    path = tmp_path / "deep.json"
    write_documents(path, [[[("deep", (three_deep, None)), ("shallow", (two_deep, None))]]])
    connection = duckdb.connect()
    read_trace_file(connection, path)
    (text,) = connection.execute("SELECT attributes FROM raw_spans").fetchall()[0]
    connection.close()
    decoded = json.loads(text)
    assert decoded["shallow"] == [{"k": True}]
    kept = decoded["deep"][0][0]
    assert isinstance(kept, str) and json.loads(kept) == innermost
