"""Trace file readers: every fixture loads, every format variant decodes the same, every bad record is
named by file and line, and skip_invalid leaves exactly the bad records out."""

from __future__ import annotations

import base64
import gzip
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from halo_local.errors import HaloLocalError, InvalidTraceFileError, NotTraceFileError, UsageError
from halo_local.ingest import lines as line_batches
from halo_local.ingest.readers import (
    SUPPORTED_FORMATS,
    LinePosition,
    ReadResult,
    SkippedRecord,
    detect_format,
    expand_paths,
    read_trace_file,
)

FIXTURES = Path(__file__).parent / "fixtures"
TRACE_ID = "5b8efff798038103d269b633813fc60c"
START_NS = 1_544_712_660_000_000_000
RAW_SPANS_COLUMNS = [
    ("source_line", "BIGINT"),
    ("trace_id", "VARCHAR"),
    ("span_id", "VARCHAR"),
    ("parent_span_id", "VARCHAR"),
    ("trace_state", "VARCHAR"),
    ("name", "VARCHAR"),
    ("kind", "VARCHAR"),
    ("start_ns", "BIGINT"),
    ("end_ns", "BIGINT"),
    ("status_code", "VARCHAR"),
    ("status_message", "VARCHAR"),
    ("resource_attributes", "JSON"),
    ("attributes", "JSON"),
    ("scope_name", "VARCHAR"),
    ("scope_version", "VARCHAR"),
    ("events", "JSON"),
    ("links", "JSON"),
]


@pytest.fixture
def connection() -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    yield con
    con.close()


def raw_spans(connection: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """raw_spans rows in file order, JSON columns parsed."""
    result = connection.execute("SELECT * FROM raw_spans ORDER BY source_line, span_id")
    names = [column[0] for column in result.description]
    rows = [dict(zip(names, row)) for row in result.fetchall()]
    for row in rows:
        for column in ("resource_attributes", "attributes", "events", "links"):
            row[column] = json.loads(row[column])
    return rows


def otlp_span(number: int, **fields: Any) -> dict[str, Any]:
    span = {
        "traceId": TRACE_ID,
        "spanId": f"{number:016x}",
        "name": f"span {number}",
        "kind": 1,
        "startTimeUnixNano": str(START_NS + number),
        "endTimeUnixNano": str(START_NS + number + 1_000),
    }
    span.update(fields)
    return {key: value for key, value in span.items() if value is not None}


def otlp_document(*spans: dict[str, Any], resource: str = "svc") -> dict[str, Any]:
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": resource}}]},
                "scopeSpans": [{"scope": {"name": "lib", "version": "1.0"}, "spans": list(spans)}],
            }
        ]
    }


def halo_span(number: int, **fields: Any) -> dict[str, Any]:
    span = {
        "trace_id": TRACE_ID,
        "span_id": f"{number:024x}",
        "parent_span_id": "",
        "trace_state": "",
        "name": f"span {number}",
        "kind": "SPAN_KIND_INTERNAL",
        "start_time": "2026-04-24T18:12:13.315189123Z",
        "end_time": "2026-04-24T18:12:14.000000001Z",
        "status": {"code": "STATUS_CODE_OK", "message": ""},
        "resource": {"attributes": {"service.name": "svc"}},
        "scope": {"name": "lib", "version": "1.0"},
        "attributes": {"n": number},
    }
    span.update(fields)
    return {key: value for key, value in span.items() if value is not None}


def write_lines(path: Path, records: list[Any]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


def fixture_table() -> list[tuple[str, int, int]]:
    """(file, spans, traces) from the table in tests/fixtures/README.md."""
    rows = []
    for line in (FIXTURES / "README.md").read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\| (\S+\.jsonl?) \| (\d+) \| (\d+) \|", line)
        if match:
            rows.append((match.group(1), int(match.group(2)), int(match.group(3))))
    return rows


# --- Real traces -----------------------------------------------------------------------------------


def test_fixture_table_lists_every_trace_file() -> None:
    listed = {name for name, _, _ in fixture_table()}
    on_disk = {
        str(path.relative_to(FIXTURES))
        for path in FIXTURES.rglob("*.json*")
        if not path.name.endswith((".labels.json", ".labels.jsonl"))
    }
    assert listed == on_disk


@pytest.mark.parametrize(("name", "spans", "traces"), fixture_table())
def test_every_fixture_loads_with_its_documented_counts(
    connection: duckdb.DuckDBPyConnection, name: str, spans: int, traces: int
) -> None:
    result = read_trace_file(connection, FIXTURES / name)
    assert (result.spans_read, result.skipped, result.first_skipped) == (spans, 0, [])
    assert result.format == ("halo-jsonl" if name.endswith(".jsonl") else "otlp-json")
    counted = connection.execute(
        "SELECT count(*), count(DISTINCT trace_id), count(*) FILTER (WHERE start_ns IS NULL OR name IS NULL)"
        " FROM raw_spans"
    ).fetchall()
    assert counted == [(spans, traces, 0)]


def test_raw_spans_has_exactly_the_contract_columns(connection: duckdb.DuckDBPyConnection) -> None:
    read_trace_file(connection, FIXTURES / "otel-proto" / "trace.json")
    described = connection.execute("DESCRIBE raw_spans").fetchall()
    assert [(row[0], row[1]) for row in described] == RAW_SPANS_COLUMNS


def test_halo_jsonl_and_its_otlp_conversion_give_the_same_rows(connection: duckdb.DuckDBPyConnection) -> None:
    read_trace_file(connection, FIXTURES / "halo" / "realistic_traces.jsonl")
    flat = {(row["trace_id"], row["span_id"]): row for row in raw_spans(connection)}
    read_trace_file(connection, FIXTURES / "halo" / "realistic_traces.otlp.json")
    otlp = {(row["trace_id"], row["span_id"]): row for row in raw_spans(connection)}
    assert flat.keys() == otlp.keys() and len(flat) == 58
    nulls_kept = 0
    for key, flat_row in flat.items():
        otlp_row = otlp[key]
        nulls_kept += sum(value is None for value in flat_row["attributes"].values())
        # The conversion to OTLP dropped null-valued attributes (AnyValue has no null): the only difference.
        flat_row["attributes"] = {k: v for k, v in flat_row["attributes"].items() if v is not None}
        assert {**flat_row, "source_line": None} == {**otlp_row, "source_line": None}
    assert nulls_kept > 0
    sample = flat[("84559aaf5d124026b1da35a7a66d9e94", "79d500bda507440f8a237682")]
    assert sample["start_ns"] == 1_777_054_333_315_189_000
    assert sample["attributes"]["llm.token_count.prompt"] == 325
    assert sample["kind"] == "client" and sample["status_code"] == "ok"
    assert sample["trace_state"] is None and sample["status_message"] is None


def test_otel_spec_example_ids_are_lower_cased_and_its_parent_kept(connection: duckdb.DuckDBPyConnection) -> None:
    read_trace_file(connection, FIXTURES / "otel-proto" / "trace.json")
    (row,) = raw_spans(connection)
    assert (row["trace_id"], row["span_id"], row["parent_span_id"]) == (
        "5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174", "eee19b7ec3c1b173"
    )
    assert (row["kind"], row["start_ns"], row["end_ns"]) == ("server", 1544712660000000000, 1544712661000000000)
    assert row["scope_name"] == "my.library" and row["resource_attributes"] == {"service.name": "my.service"}
    assert row["source_line"] == 1


def test_events_keep_name_time_and_decoded_attributes(connection: duckdb.DuckDBPyConnection) -> None:
    read_trace_file(
        connection,
        FIXTURES / "vendor-payloads" / "01-should-convert-an-openlit-otel-span-to-langfuse-events.otlp.json",
    )
    (row,) = raw_spans(connection)
    assert [event["name"] for event in row["events"]] == ["gen_ai.content.prompt", "gen_ai.content.completion"]
    assert all(isinstance(event["timeUnixNano"], int) for event in row["events"])
    assert all(isinstance(event["attributes"], dict) and event["attributes"] for event in row["events"])


# --- OTLP/JSON variants ----------------------------------------------------------------------------


def test_base64_ids_become_hex(tmp_path: Path, connection: duckdb.DuckDBPyConnection) -> None:
    trace = bytes.fromhex(TRACE_ID)
    span_id, parent = bytes.fromhex("eee19b7ec3c1b174"), bytes.fromhex("00f067aa0ba902b7")
    link_span = bytes.fromhex("1111111111111111")
    span = otlp_span(
        1,
        traceId=base64.b64encode(trace).decode(),
        spanId=base64.b64encode(span_id).decode(),
        parentSpanId=base64.urlsafe_b64encode(parent).decode().rstrip("="),
        links=[{"traceId": base64.b64encode(trace).decode(), "spanId": base64.b64encode(link_span).decode()}],
    )
    read_trace_file(connection, write_lines(tmp_path / "b64.json", [otlp_document(span)]))
    (row,) = raw_spans(connection)
    ids = (row["trace_id"], row["span_id"], row["parent_span_id"])
    assert ids == (TRACE_ID, "eee19b7ec3c1b174", "00f067aa0ba902b7")
    link = {"traceId": TRACE_ID, "spanId": "1111111111111111", "traceState": None, "attributes": {}}
    assert row["links"] == [link]


def test_enum_names_and_numbers_map_to_the_same_words(
    tmp_path: Path, connection: duckdb.DuckDBPyConnection
) -> None:
    spans = [
        otlp_span(1, kind="SPAN_KIND_CLIENT", status={"code": "STATUS_CODE_ERROR", "message": "boom"}),
        otlp_span(2, kind=3, status={"code": 2}),
        otlp_span(3, kind=5, status={"code": 1}),
        otlp_span(4, kind=None, status=None),
        otlp_span(5, kind="bogus", status={"code": 9}),
        otlp_span(6, kind="9223372036854775807", status={"code": "Ok"}),
    ]
    read_trace_file(connection, write_lines(tmp_path / "enums.json", [otlp_document(*spans)]))
    got = [(row["kind"], row["status_code"], row["status_message"]) for row in raw_spans(connection)]
    assert got == [
        ("client", "error", "boom"),
        ("client", "error", None),
        ("consumer", "ok", None),
        ("unspecified", "unset", None),
        ("unspecified", "unset", None),
        ("unspecified", "ok", None),
    ]


def test_tempo_batches_old_instrumentation_library_and_snake_case_containers(
    tmp_path: Path, connection: duckdb.DuckDBPyConnection
) -> None:
    tempo = {
        "batches": [
            {"resource": {"attributes": []}, "scopeSpans": [{"scope": {"name": "a"}, "spans": [otlp_span(1)]}]}
        ]
    }
    old = {
        "resourceSpans": [
            {
                "resource": {"attributes": []},
                "instrumentationLibrarySpans": [
                    {"instrumentationLibrary": {"name": "old-lib", "version": "0.1"}, "spans": [otlp_span(2)]}
                ],
            }
        ]
    }
    snake = {"resource_spans": [{"scope_spans": [{"scope": {"name": "c"}, "spans": [otlp_span(3)]}]}]}
    read_trace_file(connection, write_lines(tmp_path / "variants.jsonl", [tempo, old, snake]))
    got = [
        (row["source_line"], row["span_id"][-1], row["scope_name"], row["scope_version"])
        for row in raw_spans(connection)
    ]
    assert got == [(1, "1", "a", None), (2, "2", "old-lib", "0.1"), (3, "3", "c", None)]


def test_int64_as_numbers_unknown_fields_and_missing_optional_fields(
    tmp_path: Path, connection: duckdb.DuckDBPyConnection
) -> None:
    span = otlp_span(1, startTimeUnixNano=START_NS, endTimeUnixNano=None, somethingNew={"x": [1]})
    span["attributes"] = [{"key": "n", "value": {"intValue": 9007199254740993}}]
    document = otlp_document(span)
    document["futureField"] = True
    read_trace_file(connection, write_lines(tmp_path / "numbers.json", [document]))
    (row,) = raw_spans(connection)
    assert (row["start_ns"], row["end_ns"]) == (START_NS, None)
    assert row["attributes"] == {"n": 9007199254740993}
    assert (row["events"], row["links"], row["parent_span_id"]) == ([], [], None)


@pytest.mark.parametrize("parent", ["", "0000000000000000", "AAAAAAAAAAA="])
def test_empty_and_all_zero_parents_mean_root(
    tmp_path: Path, connection: duckdb.DuckDBPyConnection, parent: str
) -> None:
    path = write_lines(tmp_path / "root.json", [otlp_document(otlp_span(1, parentSpanId=parent))])
    read_trace_file(connection, path)
    assert raw_spans(connection)[0]["parent_span_id"] is None


def test_end_before_start_is_kept_as_written(tmp_path: Path, connection: duckdb.DuckDBPyConnection) -> None:
    span = otlp_span(1, endTimeUnixNano=str(START_NS - 5))
    result = read_trace_file(connection, write_lines(tmp_path / "backwards.json", [otlp_document(span)]))
    assert result.skipped == 0
    (row,) = raw_spans(connection)
    assert (row["start_ns"], row["end_ns"]) == (START_NS + 1, START_NS - 5)


def test_json_lines_of_documents_keep_line_numbers_across_gzip(
    tmp_path: Path, connection: duckdb.DuckDBPyConnection
) -> None:
    lines = [json.dumps(otlp_document(otlp_span(2 * n + 1), otlp_span(2 * n + 2))) for n in range(3)]
    path = tmp_path / "export.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(lines[0] + "\n\n" + lines[1] + "\r\n" + lines[2] + "\n")
    assert detect_format(path) == "otlp-json"
    result = read_trace_file(connection, path)
    assert result.spans_read == 6
    assert [row["source_line"] for row in raw_spans(connection)] == [1, 1, 3, 3, 4, 4]


def test_gzip_is_recognised_by_content_not_name(tmp_path: Path, connection: duckdb.DuckDBPyConnection) -> None:
    path = tmp_path / "looks-plain.json"
    path.write_bytes(gzip.compress(json.dumps(otlp_document(otlp_span(1))).encode()))
    assert read_trace_file(connection, path).spans_read == 1


def test_a_corrupt_gzip_file_is_an_invalid_trace_file(tmp_path: Path, connection: duckdb.DuckDBPyConnection) -> None:
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(gzip.compress(json.dumps(otlp_document(otlp_span(1))).encode() * 50)[:60])
    with pytest.raises(InvalidTraceFileError, match="gzip"):
        read_trace_file(connection, path, format="otlp-json")


def test_a_top_level_array_holds_documents_in_a_file_or_on_a_line(
    tmp_path: Path, connection: duckdb.DuckDBPyConnection
) -> None:
    documents = [otlp_document(otlp_span(1)), otlp_document(otlp_span(2))]
    pretty = tmp_path / "array.json"
    pretty.write_text(json.dumps(documents, indent=2), encoding="utf-8")
    assert read_trace_file(connection, pretty).spans_read == 2
    one_line = write_lines(tmp_path / "array.jsonl", [documents, otlp_document(otlp_span(3))])
    assert read_trace_file(connection, one_line).spans_read == 3
    assert [row["source_line"] for row in raw_spans(connection)] == [1, 1, 2]


def test_byte_order_mark_and_pretty_printing(tmp_path: Path, connection: duckdb.DuckDBPyConnection) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(otlp_document(otlp_span(1), otlp_span(2)), indent=4).encode())
    assert read_trace_file(connection, path).spans_read == 2


def test_a_ten_megabyte_attribute_value_is_read_whole_under_a_raised_cap(
    tmp_path: Path, connection: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HALO_ATTRIBUTE_VALUE_LIMIT", "16MiB")
    huge = "é" + "x" * 10_000_000
    span = otlp_span(1, attributes=[{"key": "input.value", "value": {"stringValue": huge}}])
    path = write_lines(tmp_path / "huge.jsonl", [otlp_document(span), otlp_document(otlp_span(2))])
    read_trace_file(connection, path)
    (length,) = connection.execute(
        "SELECT length(attributes->>'$.\"input.value\"') FROM raw_spans WHERE span_id = '0000000000000001'"
    ).fetchall()[0]
    assert length == len(huge)


def test_batches_keep_line_numbers_and_lines_longer_than_a_batch(
    tmp_path: Path, connection: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(line_batches, "BLOCK_BYTES", 700)
    long_span = otlp_span(5, attributes=[{"key": "big", "value": {"stringValue": "y" * 3_000}}])
    records = [otlp_document(otlp_span(n)) for n in range(1, 5)] + [otlp_document(long_span)]
    records += [otlp_document(otlp_span(n)) for n in range(6, 13)]
    path = write_lines(tmp_path / "many.jsonl", records)
    path.write_text(path.read_text(encoding="utf-8").rstrip("\n"), encoding="utf-8")
    result = read_trace_file(connection, path)
    assert result.spans_read == 12
    rows = raw_spans(connection)
    assert [(row["source_line"], int(row["span_id"], 16)) for row in rows] == [(n, n) for n in range(1, 13)]
    assert len(rows[4]["attributes"]["big"]) == 3_000


def test_duplicate_attribute_keys_keep_the_last_value(tmp_path: Path, connection: duckdb.DuckDBPyConnection) -> None:
    attributes = [
        {"key": "a", "value": {"stringValue": "first"}},
        {"key": "b", "value": {"intValue": "1"}},
        {"key": "a", "value": {"stringValue": "last"}},
    ]
    path = write_lines(tmp_path / "dups.json", [otlp_document(otlp_span(1, attributes=attributes))])
    read_trace_file(connection, path)
    got = connection.execute("SELECT attributes->>'a', attributes->>'b' FROM raw_spans").fetchall()
    assert got == [("last", "1")]
    flat = tmp_path / "dups.jsonl"
    line = json.dumps(halo_span(1, attributes={})).replace('"attributes": {}', '"attributes": {"a": 1, "a": 2}')
    flat.write_text(line + "\n", encoding="utf-8")
    read_trace_file(connection, flat)
    got = connection.execute("SELECT attributes->>'a', attributes::VARCHAR FROM raw_spans").fetchall()
    assert got == [("2", '{"a":2}')]


# --- HALO JSON Lines -------------------------------------------------------------------------------


def test_halo_times_keep_nanoseconds_and_offsets(tmp_path: Path, connection: duckdb.DuckDBPyConnection) -> None:
    spans = [
        halo_span(1),
        halo_span(2, start_time="2026-04-24T20:12:13.5+02:00", end_time="2026-04-24T18:12:14Z"),
        halo_span(3, start_time="2026-04-24 18:12:13.123456789123", end_time=""),
        halo_span(4, start_time="1777054333315189123", end_time=None),
    ]
    read_trace_file(connection, write_lines(tmp_path / "times.jsonl", spans))
    got = [(row["start_ns"], row["end_ns"]) for row in raw_spans(connection)]
    assert got == [
        (1_777_054_333_315_189_123, 1_777_054_334_000_000_001),
        (1_777_054_333_500_000_000, 1_777_054_334_000_000_000),
        (1_777_054_333_123_456_789, None),
        (1_777_054_333_315_189_123, None),
    ]


def test_halo_json_nulls_events_and_links(tmp_path: Path, connection: duckdb.DuckDBPyConnection) -> None:
    span = halo_span(
        1,
        parent_span_id="ABCDEF0123456789ABCDEF01",
        attributes={"model": None, "tokens": 12, "ratio": 0.5, "tags": ["a"], "nested": {"k": True}},
        events=[
            {"name": "exception", "time": "2026-04-24T18:12:13.000000007Z", "attributes": {"exception.message": "x"}}
        ],
        links=[{"trace_id": TRACE_ID.upper(), "span_id": "00F067AA0BA902B7"}],
    )
    read_trace_file(connection, write_lines(tmp_path / "rich.jsonl", [span]))
    (row,) = raw_spans(connection)
    assert row["span_id"] == f"{1:024x}" and row["parent_span_id"] == "abcdef0123456789abcdef01"
    assert row["attributes"] == {"model": None, "tokens": 12, "ratio": 0.5, "tags": ["a"], "nested": {"k": True}}
    assert row["events"] == [
        {"name": "exception", "timeUnixNano": 1_777_054_333_000_000_007, "attributes": {"exception.message": "x"}}
    ]
    assert row["links"] == [{"traceId": TRACE_ID, "spanId": "00f067aa0ba902b7", "traceState": None, "attributes": {}}]


# --- Malformed input -------------------------------------------------------------------------------

GOOD_OTLP = json.dumps(otlp_document(otlp_span(1)))
GOOD_HALO = json.dumps(halo_span(1))
MALFORMED = [
    # (name, format, second line (bytes), expected reason)
    ("otlp-truncated", "otlp-json", GOOD_OTLP[:60].encode(), "is truncated"),
    ("otlp-garbage", "otlp-json", b"not json at all", "is not valid JSON"),
    ("otlp-broken-middle", "otlp-json", GOOD_OTLP[:60].encode() + b"\n" + GOOD_OTLP.encode(), "is not valid JSON: "),
    ("otlp-non-utf8", "otlp-json", GOOD_OTLP.replace("span 1", "span \udcff", 1).encode("utf-8", "surrogateescape"),
     "is not valid UTF-8: byte 0xff at column"),
    ("otlp-spans-not-list", "otlp-json",
     json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": {"a": 1}}]}]}).encode(),
     '"spans" is not a list'),
    ("otlp-attributes-not-list", "otlp-json", json.dumps(otlp_document(otlp_span(2, attributes={"a": 1}))).encode(),
     '"attributes" is not a list'),
    ("otlp-start-not-number", "otlp-json", json.dumps(otlp_document(otlp_span(2, startTimeUnixNano="soon"))).encode(),
     'span "span 2" (id 0000000000000002) has a startTimeUnixNano that is not an integer: "soon"'),
    ("otlp-start-object", "otlp-json", json.dumps(otlp_document(otlp_span(2, startTimeUnixNano={"n": 1}))).encode(),
     "startTimeUnixNano that is not an integer"),
    ("otlp-no-start", "otlp-json", json.dumps(otlp_document(otlp_span(2, startTimeUnixNano=None))).encode(),
     "has no startTimeUnixNano"),
    ("otlp-no-trace-id", "otlp-json", json.dumps(otlp_document(otlp_span(2, traceId=None))).encode(),
     'span "span 2" (id 0000000000000002) has no traceId'),
    ("otlp-no-span-id", "otlp-json", json.dumps(otlp_document(otlp_span(2, spanId=""))).encode(), "has no spanId"),
    ("otlp-scalar-line", "otlp-json", b"42", "is JSON but not an object"),
    ("halo-truncated", "halo-jsonl", GOOD_HALO[:40].encode(), "is truncated"),
    ("halo-no-span-id", "halo-jsonl", json.dumps(halo_span(2, span_id=None)).encode(), "has no span_id"),
    ("halo-bad-time", "halo-jsonl", json.dumps(halo_span(2, start_time="yesterday")).encode(),
     'has a start_time that is not an ISO-8601 time of 1677-2262: "yesterday"'),
    ("halo-year-3000", "halo-jsonl", json.dumps(halo_span(2, end_time="3000-01-01T00:00:00Z")).encode(),
     "has an end_time that is not an ISO-8601 time"),
    ("halo-attributes-list", "halo-jsonl", json.dumps(halo_span(2, attributes=[1])).encode(),
     '"attributes" that are not an object'),
]


@pytest.mark.parametrize(("name", "chosen_format", "bad", "reason"), MALFORMED, ids=[case[0] for case in MALFORMED])
def test_a_bad_record_names_file_line_and_reason(
    tmp_path: Path, connection: duckdb.DuckDBPyConnection, name: str, chosen_format: str, bad: bytes, reason: str
) -> None:
    good = (GOOD_OTLP if chosen_format == "otlp-json" else GOOD_HALO).encode()
    path = tmp_path / f"{name}.jsonl"
    newline = b"" if "truncated" in name else b"\n"
    path.write_bytes(good + b"\n" + bad + newline)
    assert detect_format(path) == chosen_format
    with pytest.raises(InvalidTraceFileError) as raised:
        read_trace_file(connection, path)
    error = raised.value
    assert (error.path, error.line) == (str(path), 2)
    assert reason in error.message and error.message.startswith(f"{path}:2: ")
    left_behind = connection.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'raw_spans'")
    assert left_behind.fetchall() == [(0,)]

    result = read_trace_file(connection, path, skip_invalid=True)
    good_after = bad.count(b"\n")  # the case that puts a good line after the bad one
    assert (result.spans_read, result.skipped) == (1 + good_after, 1)
    assert result.first_skipped[0].line == 2 and reason in result.first_skipped[0].reason
    assert [row["source_line"] for row in raw_spans(connection)] == [1] + ([3] if good_after else [])


def test_skip_invalid_counts_everything_and_lists_the_first_five(
    tmp_path: Path, connection: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(line_batches, "BLOCK_BYTES", 2_000)
    lines = []
    for number in range(1, 21):
        lines.append(GOOD_OTLP if number % 3 else "{broken")
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = read_trace_file(connection, path, skip_invalid=True)
    bad_lines = [number for number in range(1, 21) if number % 3 == 0]
    assert result == ReadResult(
        path=path,
        format="otlp-json",
        spans_read=20 - len(bad_lines),
        skipped=len(bad_lines),
        first_skipped=[SkippedRecord(line, result.first_skipped[0].reason) for line in bad_lines[:5]],
        resume_at=LinePosition(path.stat().st_size, 20),
    )
    assert result.first_skipped[0].reason.startswith("is not valid JSON")


def test_errors_inside_a_pretty_printed_document_name_the_line_in_the_text(
    tmp_path: Path, connection: duckdb.DuckDBPyConnection
) -> None:
    path = tmp_path / "pretty.json"
    path.write_text(json.dumps(otlp_document(otlp_span(1), otlp_span(2, traceId=None)), indent=2), encoding="utf-8")
    text_lines = path.read_text(encoding="utf-8").splitlines()
    expected_line = next(n for n, line in enumerate(text_lines, 1) if '"spanId": "0000000000000002"' in line)
    with pytest.raises(InvalidTraceFileError) as raised:
        read_trace_file(connection, path)
    assert raised.value.line == expected_line and "has no traceId" in raised.value.message
    path.write_text(path.read_text(encoding="utf-8")[:-40], encoding="utf-8")
    with pytest.raises(InvalidTraceFileError, match="is truncated"):
        read_trace_file(connection, path)


@pytest.mark.parametrize("content", [b"", b"\n   \n\n"])
def test_an_empty_file_reads_as_no_spans(
    tmp_path: Path, connection: duckdb.DuckDBPyConnection, content: bytes
) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(content)
    assert detect_format(path) == "otlp-json"
    for chosen in ("auto", *SUPPORTED_FORMATS):
        result = read_trace_file(connection, path, format=chosen)
        assert (result.spans_read, result.skipped) == (0, 0)
        assert connection.execute("SELECT count(*) FROM raw_spans").fetchall() == [(0,)]


def test_a_file_that_is_not_a_trace_file(tmp_path: Path, connection: duckdb.DuckDBPyConnection) -> None:
    garbage = tmp_path / "notes.json"
    garbage.write_text("hello\nworld\n", encoding="utf-8")
    with pytest.raises(InvalidTraceFileError) as raised:
        read_trace_file(connection, garbage)
    assert raised.value.line == 1 and "is not valid JSON" in raised.value.message
    other = write_lines(tmp_path / "labels.json", [{"golden": "x", "error_spans": []}])
    with pytest.raises(InvalidTraceFileError, match="neither OTLP/JSON"):
        detect_format(other)
    with pytest.raises(UsageError):
        read_trace_file(connection, other, format="jaeger")


def test_labels_with_trace_ids_are_no_halo_spans_but_a_damaged_halo_span_still_is(
        tmp_path: Path, connection: duckdb.DuckDBPyConnection) -> None:
    labels = FIXTURES / "adk-goldens" / "tool-error-valueerror-schema-v2.labels.json"  # pretty, top-level trace_id
    with pytest.raises(NotTraceFileError, match="no spans: its first record has none of span_id"):
        detect_format(labels)
    one_line = write_lines(tmp_path / "labels.jsonl", [{"trace_id": "ab" * 16, "golden": "x"}])
    with pytest.raises(NotTraceFileError):
        detect_format(one_line)
    damaged = write_lines(tmp_path / "damaged.jsonl", [{"trace_id": "ab" * 16, "start_time": "2026-04-24T18:12:13Z"}])
    assert detect_format(damaged) == "halo-jsonl"
    with pytest.raises(InvalidTraceFileError, match=r"damaged.jsonl:1: .*has no span_id"):
        read_trace_file(connection, damaged)


def test_a_failed_read_leaves_the_callers_transaction_usable(tmp_path: Path) -> None:
    database = duckdb.connect(str(tmp_path / "store.duckdb"))
    database.execute("CREATE TABLE kept (n INTEGER)")
    database.execute("BEGIN TRANSACTION")
    database.execute("INSERT INTO kept VALUES (1)")
    database.execute("SELECT * FROM kept").fetchone()  # a half-read result, as the loader leaves one
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(GOOD_OTLP.encode() + b"\n\xff\xfe\n")
    with pytest.raises(InvalidTraceFileError):
        read_trace_file(database, bad)
    read_trace_file(database, FIXTURES / "otel-proto" / "trace.json")
    database.execute("INSERT INTO kept SELECT count(*) FROM raw_spans")
    database.execute("COMMIT")
    assert database.execute("SELECT n FROM kept ORDER BY n").fetchall() == [(1,), (1,)]
    database.close()


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=8,
)


OTLP_FUZZ = st.dictionaries(st.sampled_from([*otlp_span(1), "attributes", "events", "links", "status"]), JSON_VALUES,
                            max_size=4)
HALO_FUZZ = st.dictionaries(st.sampled_from([*halo_span(1), "events", "links"]), JSON_VALUES, max_size=4)


# Each example writes one file per format: a good span on line 1, then up to 8 fuzzed spans, one a line.
# A file is read once leniently and, when a line was left out, once strictly: 10 examples fuzz about as
# many spans as 40 one-fuzz examples, for the reads of 10, and check the lines between good ones too.
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(otlp_fuzz=st.lists(OTLP_FUZZ, min_size=1, max_size=8), halo_fuzz=st.lists(HALO_FUZZ, min_size=1, max_size=8))
def test_any_json_in_any_field_loads_or_names_the_line(
    tmp_path: Path, otlp_fuzz: list[dict[str, Any]], halo_fuzz: list[dict[str, Any]]
) -> None:
    """Whatever a field holds, the reader loads the span or leaves out its line, and a strict read stops
    at the first line left out, naming it."""
    cases = [
        write_lines(tmp_path / "fuzz.json", [otlp_document(otlp_span(1))] + [
            otlp_document({**otlp_span(number), **fields}) for number, fields in enumerate(otlp_fuzz, start=2)]),
        write_lines(tmp_path / "fuzz.jsonl", [halo_span(1)] + [
            {**halo_span(number), **fields} for number, fields in enumerate(halo_fuzz, start=2)]),
    ]
    connection = duckdb.connect()
    try:
        for path, lines in zip(cases, (1 + len(otlp_fuzz), 1 + len(halo_fuzz)), strict=True):
            lenient = read_trace_file(connection, path, skip_invalid=True)
            assert lenient.spans_read >= 1 and lenient.skipped <= lines - 1
            left_out = [record.line for record in lenient.first_skipped]
            assert left_out == sorted(set(left_out)) and all(2 <= line <= lines for line in left_out)
            assert len(left_out) == min(lenient.skipped, 5)
            if not lenient.skipped:
                continue
            with pytest.raises(InvalidTraceFileError) as caught:
                read_trace_file(connection, path)
            assert caught.value.line == left_out[0]
    finally:
        connection.close()


# --- Detection and paths ---------------------------------------------------------------------------


def test_detect_format_reads_the_first_keys(tmp_path: Path) -> None:
    assert detect_format(FIXTURES / "halo" / "realistic_traces.jsonl") == "halo-jsonl"
    assert detect_format(FIXTURES / "halo" / "realistic_traces.otlp.json") == "otlp-json"
    assert detect_format(FIXTURES / "otel-proto" / "trace.json") == "otlp-json"
    snake_document = {"resource_spans": [{"scope_spans": [{"spans": [{"trace_id": "1"}]}]}]}
    snake = write_lines(tmp_path / "snake.json", [snake_document])
    assert detect_format(snake) == "otlp-json"


def test_expand_paths_files_directories_and_globs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    names = ["a/one.jsonl", "a/two.json.gz", "a/deep/three.ndjson", "a/notes.txt", "a/.hidden/four.json", "b.JSON"]
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}")
    monkeypatch.chdir(tmp_path)
    expected = [tmp_path / "a/deep/three.ndjson", tmp_path / "a/one.jsonl", tmp_path / "a/two.json.gz"]
    assert expand_paths(["a"]) == sorted(expected)
    assert expand_paths([tmp_path / "a", "a/one.jsonl", "a/**/*.ndjson"]) == sorted(expected)
    assert expand_paths(["a/notes.txt", "*.JSON"]) == [tmp_path / "a/notes.txt", tmp_path / "b.JSON"]
    for missing in ["nope.jsonl", "a/*.parquet", "a/deep/empty-dir-glob/**"]:
        with pytest.raises(HaloLocalError, match=re.escape(missing)):
            expand_paths(["a", missing])


def test_nesting_too_deep_for_python_still_gets_a_clean_error(connection: duckdb.DuckDBPyConnection,
                                                              tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(InvalidTraceFileError) as refused:
        read_trace_file(connection, deep)
    assert str(deep) in refused.value.message and "neither OTLP/JSON" in refused.value.message
