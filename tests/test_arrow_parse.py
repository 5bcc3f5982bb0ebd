"""Arrow's parse of one-pass chunks makes exactly the rows the SQL parse makes, or declines the chunk.

Every chunk the fast path takes is parsed again by the readers' SQL and the two halo_chunk_rows are
compared whole (every stored column, source_line, read_error). Declined shapes are listed one by one,
and mixed shapes are generated (hypothesis): either declined or identical, never different.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_load_parity import REPO, _generator

from halo_local.errors import InvalidTraceFileError
from halo_local.ingest import arrow_parse, load_paths, loader, onepass, readers, scratch
from halo_local.ingest.lines import Batch, LinePosition, line_batches
from halo_local.store import Store


@pytest.fixture
def parser() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    scratch.install_macros(connection)
    yield connection
    connection.close()


def _rows(connection: duckdb.DuckDBPyConnection) -> pa.Table:
    return connection.sql("SELECT * FROM halo_chunk_rows ORDER BY ALL").to_arrow_table()


def fast_rows(connection: duckdb.DuckDBPyConnection, chunk: arrow_parse.ArrowChunk) -> pa.Table:
    """Every row of a chunk Arrow took, as halo_chunk_rows: Arrow's own (all good) and the SQL's, sorted."""
    own = chunk.rows.append_column("read_error", pa.nulls(chunk.rows.num_rows, pa.string()))
    connection.register("halo_arrow_rows", own)
    try:
        rest = "UNION ALL SELECT * FROM halo_chunk_rows" if chunk.rest_in_sql else ""
        return connection.sql(f"SELECT * FROM (SELECT * FROM halo_arrow_rows {rest}) ORDER BY ALL").to_arrow_table()
    finally:
        connection.unregister("halo_arrow_rows")


def _fast_equals_sql(connection: duckdb.DuckDBPyConnection, batch: Batch, *, all_plain: bool = False) -> bool:
    """Whether the fast path took the batch; when it did, its rows must be the SQL parse's (and, with
    `all_plain`, every span computed by Arrow alone)."""
    chunk = arrow_parse.parse_chunk(connection, batch)
    if not chunk:
        return False
    assert not (all_plain and chunk.rest_in_sql)
    fast = fast_rows(connection, chunk)
    connection.execute("DROP TABLE IF EXISTS halo_chunk_rows")
    readers._parse_lines(connection, "otlp-json", batch.table)
    slow = _rows(connection)
    assert fast.schema == slow.schema
    assert fast.to_pylist() == slow.to_pylist()
    return True


def _batches(path: Path, chunk_bytes: int = 8192) -> list[Batch]:
    return list(line_batches(path, LinePosition(0, 0), chunk_bytes))


def _span(number: int, **fields: Any) -> dict[str, Any]:
    return {"traceId": f"{number:032x}", "spanId": f"{number:016x}", "name": f"span {number}",
            "startTimeUnixNano": str(1_700_000_000_000_000_000 + number), **fields}


def _document(*spans: dict[str, Any], resource: list[Any] | None = None) -> dict[str, Any]:
    return {"resourceSpans": [{"resource": {"attributes": resource or []},
                               "scopeSpans": [{"scope": {"name": "s", "version": "1"}, "spans": list(spans)}]}]}


def test_fixture_chunks_it_takes_equal_the_sql_parse(parser: duckdb.DuckDBPyConnection) -> None:
    taken = 0
    for path in readers.expand_paths([REPO / "tests" / "fixtures"]):
        if path.name.endswith(".otlp.json"):
            taken += sum(_fast_equals_sql(parser, batch) for batch in _batches(path, 1 << 20))
    assert taken >= 20  # real exports without arrays or kvlists take the fast path


def test_the_generated_bench_spans_all_take_it(parser: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    otlp_path, _ = _generator().generate(1_500, tmp_path)
    batches = _batches(otlp_path, 256 << 10)
    assert len(batches) > 1 and all(_fast_equals_sql(parser, batch, all_plain=True) for batch in batches)


def test_a_batch_hands_arrow_its_lines_as_the_file_has_them(tmp_path: Path) -> None:
    path = tmp_path / "lines.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + b'{"a": 1}\r\n\n  \n' + b'{"b": "x"}\n' * 300 + b'{"last": true}')
    batches = _batches(path, 64)
    assert len(batches) > 2 and batches[-1].joined is None  # the last line has no newline
    for batch in batches[:-1]:
        assert batch.joined == b"\n".join(batch.lines.to_pylist()) + b"\n"


def test_arrow_writes_the_attributes_text_of_plain_values_and_leaves_the_rest_to_the_macro() -> None:
    lists = pa.array([
        [{"key": "a", "value": {"stringValue": 'x"\\\n/é'}}, {"key": "n", "value": {"intValue": "-12"}},
         {"key": "b", "value": {"boolValue": True}}, {"key": "y", "value": {"bytesValue": "AQI="}},
         {"key": "z", "value": None}, {"key": "p", "value": {"stringValue": "plain"}}],
        [],
        [{"key": "d", "value": {"doubleValue": 1.5}}],
        [{"key": "n", "value": {"intValue": "007"}}],
        [{"key": "s", "value": {"stringValue": "x" * 11}}],
        [{"key": "a", "value": {}}, {"key": "a", "value": {}}],
        [{"key": None, "value": {}}],
        None,
    ], type=arrow_parse._KEY_VALUES)
    assert arrow_parse.attributes_text(lists, 10).to_pylist() == [
        '{"a":"x\\"\\\\\\n/é","n":-12,"b":true,"y":"AQI=","z":null,"p":"plain"}', "{}", None, None, None, None, None,
        "{}"]  # an absent list: the macro's text too


_EDGE_SPANS = [
    _span(1, parentSpanId=""), _span(2, parentSpanId="0000000000000000"), _span(3, parentSpanId="00000000000000AB"),
    _span(4, parentSpanId="q83vEjRWeJA="), _span(5, traceId="ABCDEF0123456789ABCDEF0123456789"),
    _span(6, spanId="EjRWeJCrze8="), _span(7, kind=None), _span(8, kind=7), _span(9, kind=-1), _span(10, kind=5),
    _span(11, status={"message": ""}), _span(12, status={"code": 2, "message": "boom"}), _span(13, status=None),
    _span(14, traceState=""), _span(15, traceState="a=b"), _span(16, name=None), _span(17, endTimeUnixNano="0"),
    _span(18, startTimeUnixNano="0001700000000000000000"), _span(19, endTimeUnixNano="9999999999999999999"),
    _span(20, startTimeUnixNano="-5", endTimeUnixNano="-0"), _span(21, attributes=None), _span(22, events=[]),
    _span(23, links=[{"traceId": "ab", "spanId": "cd"}]), _span(24, startTimeUnixNano=" 17"),
    _span(25, spanId=" "), _span(26, parentSpanId=" "), _span(27, attributes=[{"key": "d", "value": {"doubleValue": 2}}]),
]


@pytest.mark.parametrize("chunk_bytes", [1, 1 << 20])
def test_edge_shapes_of_spans_computed_by_arrow_equal_the_sql(parser: duckdb.DuckDBPyConnection, tmp_path: Path,
                                                              chunk_bytes: int) -> None:
    path = tmp_path / "edges.jsonl"
    documents = [_document(span) for span in _EDGE_SPANS]
    documents.append({"resourceSpans": [{"scopeSpans": [{"spans": [_span(30)]}]}]})  # no resource, no scope
    documents.append(_document(*_EDGE_SPANS[:3], resource=[{"key": "service.name", "value": {"stringValue": "s"}}]))
    path.write_text("".join(json.dumps(document) + "\n" for document in documents))
    batches = _batches(path, chunk_bytes)
    assert all(_fast_equals_sql(parser, batch) for batch in batches)
    plain = [arrow_parse.parse_chunk(parser, batch) for batch in batches]
    assert sum(chunk.rows.num_rows for chunk in plain if chunk) >= 15  # most are computed by Arrow alone


@pytest.mark.parametrize("line", [
    b'{"resource_spans": []}',
    b'{"batches": []}',
    b'{"resourceSpans": [{"instrumentationLibrarySpans": []}]}',
    b'{"resourceSpans": [{"scopeSpans": [{"instrumentationLibrary": {"name": "x"}, "spans": []}]}]}',
    b'[{"resourceSpans": []}]',
    b'null',
    b'{"resourceSpans": [] } {"resourceSpans": []}',
    b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "1", "startTimeUnixNano": 5}]}]}]}',
    b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "1", "kind": "SPAN_KIND_CLIENT"}]}]}]}',
    b'{"resourceSpans": [{"resource": {"attributes": [{"key": "n", "value": {"intValue": 5}}]}}]}',
    b'{"resourceSpans": [{"resource": {"attributes": [{"key": "l", "value": {"arrayValue": {"values": []}}}]}}]}',
    b'{"resourceSpans": [{"resource": {"attributes": [{"key": "m", "value": {"kvlistValue": {"values": []}}}]}}]}',
    b'{"resourceSpans": [{"resource": {"attributes": [{"key": "v", "value": "text"}]}}]}',
    b'{"resourceSpans": [{"resource": {"extra": {"attributes": 5}}}]}',
    b'{"resource\\u0053pans": []}',
    b'{"resourceSpans": [{"resource": {"attributes": [{"key": "\xff", "value": {}}]}}]}',
    b'{"resourceSpans": [{"resource": {"attributes": [{"key": "k", "key": "j"}]}}]}',
    b'{"resourceSpans": [',
    b'{"x":\n{"y": 1}}{"resourceSpans": []}',  # two lines, two documents, but not one a line
])
def test_shapes_it_cannot_read_exactly_are_left_to_the_sql(parser: duckdb.DuckDBPyConnection, tmp_path: Path,
                                                           line: bytes) -> None:
    path = tmp_path / "chunk.jsonl"
    path.write_bytes(json.dumps(_document(_span(1))).encode() + b"\n" + line + b"\n")
    (batch,) = _batches(path)
    assert not arrow_parse.parse_chunk(parser, batch)


def test_bad_spans_in_a_fast_chunk_are_named_by_their_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(onepass.MIN_BYTES_ENV, "0")
    monkeypatch.setattr(loader, "GROUP_FILE_BYTES", -1)
    good = json.dumps(_document(_span(1), _span(2)))
    bad = json.dumps(_document(_span(3), {"spanId": "00000000000000aa", "name": "orphan",
                                          "startTimeUnixNano": "1"}))
    path = tmp_path / "traces.jsonl"
    path.write_text(f"{good}\n\n   \n{bad}\n")
    (batch,) = _batches(path)
    with duckdb.connect() as connection:
        scratch.install_macros(connection)
        assert _fast_equals_sql(connection, batch)
    with pytest.raises(InvalidTraceFileError) as raised:
        load_paths(Store(tmp_path / "home"), [path])
    assert raised.value.line == 4 and "has no traceId" in str(raised.value)
    summary = load_paths(Store(tmp_path / "skipping"), [path], skip_invalid=True)
    assert (summary.spans_new, summary.skipped) == (3, 1)


_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
_SCALARS = st.one_of(
    st.builds(lambda text: {"stringValue": text}, st.one_of(_TEXT, st.just("x" * 40))),
    st.builds(lambda number: {"intValue": str(number)}, st.integers(-(2**63), 2**63 - 1)),
    st.builds(lambda text: {"intValue": text}, _TEXT),
    st.builds(lambda number: {"doubleValue": number}, st.floats(allow_nan=False, allow_infinity=False)),
    st.builds(lambda number: {"doubleValue": number}, st.integers(-5, 5)),
    st.builds(lambda flag: {"boolValue": flag}, st.booleans()),
    st.builds(lambda text: {"bytesValue": text}, _TEXT),
    st.just({}),
)
_ATTRIBUTES = st.lists(st.builds(lambda key, value: {"key": key, "value": value},
                                 st.one_of(_TEXT, st.sampled_from(["a", "b"])), _SCALARS), max_size=4)
_SPANS = st.lists(st.builds(
    lambda number, attributes, kind, code, events, end: _span(
        number, attributes=attributes, kind=kind, status={"code": code}, events=events,
        **({"endTimeUnixNano": end} if end is not None else {})),
    st.integers(0, 50), _ATTRIBUTES, st.integers(0, 7),
    st.integers(0, 3),
    st.lists(st.builds(lambda name, attributes: {"name": name, "timeUnixNano": "7", "attributes": attributes},
                       _TEXT, _ATTRIBUTES), max_size=2),
    st.one_of(st.none(), st.just("later"), st.just("1700000000000000009"))), max_size=3)
_LINES = st.lists(st.one_of(st.builds(lambda spans, resource: json.dumps(_document(*spans, resource=resource), ensure_ascii=False),
                                      _SPANS, _ATTRIBUTES), st.just(""), st.just("  ")), min_size=1, max_size=4)


@pytest.fixture(scope="module")
def capped_parser() -> Iterator[duckdb.DuckDBPyConnection]:
    """One parser for every generated example, with a cap of 16 characters (the 40-character strings are cut)."""
    connection = duckdb.connect()
    scratch.install_macros(connection)
    connection.execute("SET VARIABLE halo_value_cap = 16")
    yield connection
    connection.close()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=_LINES)
def test_mixed_shapes_are_read_exactly_or_left_to_the_sql(lines: list[str], tmp_path: Path,
                                                          capped_parser: duckdb.DuckDBPyConnection) -> None:
    path = tmp_path / "mixed.jsonl"
    text = "\n".join(lines) + "\n"
    path.write_text(text, encoding="utf-8")
    (batch,) = _batches(path)
    assert _fast_equals_sql(capped_parser, batch) or "\\u" in text  # only an escaped key is declined


@pytest.mark.parametrize(("span", "names_prefix"), [
    (_span(1, attributes=[{"key": "llm.tools.0.name", "value": {"stringValue": "x"}}]), True),
    (_span(1, attributes=[{"key": "k", "value": {"stringValue": 'see "llm.tools.0"'}}]), True),
    (_span(1, attributes=[{"key": "k", "value": {"intValue": "llm.tools.1"}}]), True),
    (_span(1, attributes=[{"key": "k", "value": {"bytesValue": "llm.tools."}}]), True),
    (_span(1, name="llm.tools.0", attributes=[{"key": "k", "value": {"stringValue": "llm.tool"}}]), False),
    (_span(1, attributes=[{"key": "\\u006clm.tools.0", "value": {}}]), True),  # declined: the SQL parses it
])
def test_a_prefix_is_looked_for_where_the_attributes_text_could_show_it(
        parser: duckdb.DuckDBPyConnection, tmp_path: Path, span: dict[str, Any], names_prefix: bool) -> None:
    path = tmp_path / "prefix.jsonl"
    path.write_text(json.dumps(_document(span)).replace("\\\\u006c", "\\u006c") + "\n")
    (batch,) = _batches(path)
    chunk = arrow_parse.parse_chunk(parser, batch, ("llm.tools.",))
    assert chunk is None or chunk.names_no_prefix is not names_prefix
