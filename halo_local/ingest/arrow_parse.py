"""The fast parse of a chunk of OTLP/JSON Lines: Arrow's JSON reader instead of `json_transform`.

pyarrow's reader, with an explicit schema for the camelCase OTLP/JSON shape, types a chunk in a few
times less CPU than DuckDB's `json_transform` and on every core. Arrow then unnests the spans and writes
the attributes' JSON text (`attributes_text`: the SQL's costliest part, a list lambda per span) for the
values it can write to the byte. The stored columns of plain spans (hex ids, decimal times, no events or
links, attributes text written) are computed in Arrow too (`arrow_rows`); DuckDB scans the other spans
(`otlp_arrow_stage.sql`) and builds their columns with the very SQL of the regular parse
(`otlp_spans.sql`), the macro writing whatever Arrow left NULL, so every column is the same.

The fast path takes a chunk only when it can read it exactly as `otlp_stage.sql` would; otherwise
`parse_chunk` returns False and the caller parses the chunk with the SQL, which names bad input with
its file and line as always. It declines a chunk when:
- Arrow raises: not JSON, not an object, a field of another type than the schema's (an int64 written as
  a number, a kind written as a name), a key written twice, a number out of range;
- the bytes are not UTF-8 (Arrow does not check), or a line holds more or less than one document (a line
  must open with `{` and end with `}`: Arrow would read an object across lines);
- a line names a key only the SQL reads (snake_case, `batches`, `instrumentationLibrary*`), an AnyValue
  array or kvlist (decoded relationally by the SQL), a key with `\\u` escapes (it might spell one of
  those), or would fail the SQL's line checks (a list field or a "value" of the wrong kind, which Arrow
  may ignore where the schema does not reach).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from halo_local.ingest import arrow_rows
from halo_local.ingest.lines import SCAN_PIECES, Batch
from halo_local.resources import sql_template, sql_text

_TEXT = pa.string()
_ANY_VALUE = pa.struct([("stringValue", _TEXT), ("intValue", _TEXT), ("boolValue", pa.bool_()),
                        ("doubleValue", pa.float64()), ("bytesValue", _TEXT)])
_KEY_VALUES = pa.list_(pa.struct([("key", _TEXT), ("value", _ANY_VALUE)]))
_SPAN = pa.struct([
    ("traceId", _TEXT), ("spanId", _TEXT), ("parentSpanId", _TEXT), ("traceState", _TEXT), ("name", _TEXT),
    ("kind", pa.int64()), ("startTimeUnixNano", _TEXT), ("endTimeUnixNano", _TEXT), ("attributes", _KEY_VALUES),
    ("events", pa.list_(pa.struct([("timeUnixNano", _TEXT), ("name", _TEXT), ("attributes", _KEY_VALUES)]))),
    ("links", pa.list_(pa.struct([("traceId", _TEXT), ("spanId", _TEXT), ("traceState", _TEXT),
                                  ("attributes", _KEY_VALUES)]))),
    ("status", pa.struct([("code", pa.int64()), ("message", _TEXT)])),
])
_SCOPE_SPANS = pa.struct([("scope", pa.struct([("name", _TEXT), ("version", _TEXT)])), ("spans", pa.list_(_SPAN))])
_RESOURCE_SPANS = pa.struct([("resource", pa.struct([("attributes", _KEY_VALUES)])),
                             ("scopeSpans", pa.list_(_SCOPE_SPANS))])
OTLP_SCHEMA = pa.schema([("resourceSpans", pa.list_(_RESOURCE_SPANS))])
"""One OTLP/JSON document as Arrow reads it: kind and status code as integers (as OTLP/JSON writes them),
int64s and ids as text; any other field is ignored, as json_transform ignores it."""

_LIST_KEYS = "resourceSpans|resource_spans|batches|scopeSpans|scope_spans|instrumentationLibrarySpans|spans|attributes|events|links|values"
_DECLINED = "|".join([
    r'"(?:resource_spans|batches|scope_spans|instrumentationLibrarySpans|instrumentationLibrary|arrayValue|kvlistValue)"\s*:',
    rf'"(?:{_LIST_KEYS})"\s*:\s*[^\[\sn]',  # otlp_stage.sql's line checks
    r'"value"\s*:\s*[^{\sn]',
    r'\\u[0-9A-Fa-f]{4}(?:[^"\\]|\\.)*"\s*:',  # a key written with an escape
])
_ASCII_ESCAPE = r"\\u00[0-7]"
_BLOCK_BYTES = 1 << 20
"""Arrow's unit of parallel work (grown to the longest line: a block holds whole documents)."""


@dataclass(frozen=True)
class ArrowChunk:
    """What Arrow's parse tells of a chunk it took, beyond its rows: `attribute_keys`, the keys of its spans'
    attributes (the keys json_keys lists in their stored JSON text, which normalize then need not parse to
    find them), or None when a string is cut (its text gains marker keys); `names_no_prefix`: no span's
    attributes text can name any of the prefixes asked for (`_names_no_prefix`)."""

    attribute_keys: frozenset[str] | None
    names_no_prefix: bool
    rows: pa.Table  # raw_spans' rows of the plain spans (arrow_rows), computed without SQL
    rest_in_sql: bool  # whether halo_chunk_rows holds the other spans' rows, made by the SQL


def parse_chunk(work: duckdb.DuckDBPyConnection, batch: Batch, prefixes: tuple[str, ...] = ()) -> ArrowChunk | None:
    """The batch's lines as readers._parse_lines makes them: the plain spans' rows in `rows`, the others'
    in halo_chunk_rows on `work` (made only when `rest_in_sql`); None (nothing made) when the fast path
    cannot read the batch exactly, for the caller to parse it with the SQL."""
    documents = _arrow_documents(batch)
    if documents is None:
        return None
    ((cap,),) = work.execute("SELECT getvariable('halo_value_cap')").fetchall()
    write_text = not pc.any(pc.match_substring_regex(batch.lines, _OTHER_CONTROLS)).as_py()
    numbers, resource_spans, data = documents
    spans_table = _flat_spans(numbers, resource_spans, int(cap), write_text=write_text)
    keys = _attribute_keys(pc.struct_field(spans_table.column("span").combine_chunks(), "attributes"), int(cap))
    plain, rows = arrow_rows.plain_rows(spans_table)
    rest = spans_table.filter(pc.invert(plain)) if rows.num_rows < spans_table.num_rows else None
    if rest is not None:
        _sql_rows(work, rest, data)
    names_no_prefix = _names_no_prefix(batch, pc.struct_field(spans_table.column("span").combine_chunks(), "attributes"),
                                       prefixes, strings_cut=keys is None)
    return ArrowChunk(attribute_keys=keys, names_no_prefix=names_no_prefix, rows=rows, rest_in_sql=rest is not None)


def _names_no_prefix(batch: Batch, key_values: pa.Array, prefixes: tuple[str, ...], *, strings_cut: bool) -> bool:
    """Whether no span's attributes text can hold a quoted prefix, which normalize's needs_generic searches
    for: no key and no string, int or bytes value of the spans' attributes (as decoded: no escape can hide
    one) contains a prefix. A text holds `"prefix` only where a key or a value starts with it, or where a
    value holds `"prefix` (escaped as `\\"prefix`). Where a string is cut, its marker keys (`<key>.halo_...`)
    could spell one: then the lines are searched, conservatively, as they are written."""
    if not prefixes:
        return True
    named = "|".join(re.escape(prefix) for prefix in prefixes)
    if strings_cut:
        return not pc.any(pc.match_substring_regex(batch.lines, f"{named}|{_ASCII_ESCAPE}")).as_py()
    pairs = pc.list_flatten(key_values)
    value = pc.struct_field(pairs, "value")
    searched = [pc.unique(pc.struct_field(pairs, "key")),
                *(pc.struct_field(value, name) for name in ("stringValue", "intValue", "bytesValue"))]
    return not any(pc.any(pc.match_substring_regex(texts, named)).as_py() for texts in searched)


def _sql_rows(work: duckdb.DuckDBPyConnection, spans: pa.Table, data: bytes) -> None:
    """halo_chunk_rows of these flat spans by the regular parse's SQL (otlp_spans.sql), which DuckDB scans
    in SCAN_PIECES record batches, one a thread."""
    pieces = pa.Table.from_batches(spans.to_batches(max_chunksize=max(1, -(-spans.num_rows // SCAN_PIECES))),
                                   spans.schema)
    work.register("halo_arrow_spans", pieces)
    try:
        # Searched in the joined bytes: Python's search runs ~10x faster than Arrow's match_substring.
        spans_sql = sql_template("ingest/otlp_spans.sql", events=b'"events"' in data, links=b'"links"' in data,
                                 decoded=False)
        stage = sql_text("ingest/otlp_arrow_stage.sql")
        work.execute(f"CREATE OR REPLACE TEMP TABLE halo_chunk_rows AS WITH halo_stage AS ({stage}) {spans_sql}")
    finally:
        work.unregister("halo_arrow_spans")


def _attribute_keys(key_values: pa.Array, cap: int) -> frozenset[str] | None:
    """The distinct keys of the spans' attributes as their JSON text names them (a missing key as ''),
    None when a string value may be cut: over `cap` bytes, so perhaps over `cap` characters."""
    pairs = pc.list_flatten(key_values)
    strings = pc.struct_field(pc.struct_field(pairs, "value"), "stringValue")
    if pc.any(pc.greater(pc.binary_length(strings), cap)).as_py():
        return None
    return frozenset(pc.unique(pc.fill_null(pc.struct_field(pairs, "key"), "")).to_pylist())


def _arrow_documents(batch: Batch) -> tuple[pa.Array, pa.Array, bytes] | None:
    """(line numbers, resourceSpans, the lines joined as Arrow read them): one value per non-blank line, or
    None when the fast path declines."""
    if batch.whole_document or not len(batch.lines):
        return None
    lines = batch.lines
    try:
        lines.cast(pa.large_string())  # validates UTF-8, which Arrow's JSON reader does not
    except pa.ArrowInvalid:
        return None
    if pc.any(pc.match_substring_regex(lines, _DECLINED)).as_py():
        return None
    filled = pc.match_substring_regex(lines, r"[^ \t\r]")
    # Each line an object of its own: Arrow's parser would also read one that goes on over the next line.
    # A line that opens with { and ends with } cannot be continued by a line that opens with {.
    whole = pc.and_(pc.match_substring_regex(lines, r"^[ \t\r]*\{"), pc.match_substring_regex(lines, r"\}[ \t\r]*$"))
    if not pc.all(pc.or_(pc.invert(filled), whole)).as_py():
        return None  # the SQL says what is wrong with such a line
    longest = pc.max(pc.binary_length(lines)).as_py() or 0
    data = batch.joined if batch.joined is not None else b"\n".join(lines.to_pylist()) + b"\n"
    try:
        table = pj.read_json(
            pa.BufferReader(data),
            read_options=pj.ReadOptions(block_size=max(_BLOCK_BYTES, longest + 2)),
            parse_options=pj.ParseOptions(explicit_schema=OTLP_SCHEMA, unexpected_field_behavior="ignore"),
        )
    except pa.ArrowInvalid:
        return None
    numbers = pc.filter(pa.array(range(batch.first_line, batch.first_line + len(lines)), pa.int64()), filled)
    if table.num_rows != len(numbers):
        return None  # a line held more than one document
    return numbers, table.column("resourceSpans").combine_chunks(), data


def _flat_spans(numbers: pa.Array, documents: pa.Array, cap: int, *, write_text: bool) -> pa.Table:
    """One row per span (in the order of the file) with its line, resource and scope: what otlp_stage.sql's
    unnests make, plus the attributes' JSON text where Arrow can write it exactly (`write_text`)."""
    resources, resource_of = _unnest(documents)
    scope_spans, scope_of = _unnest(pc.struct_field(resources, "scopeSpans"))
    spans, span_of = _unnest(pc.struct_field(scope_spans, "spans"))
    span_resource = pc.take(scope_of, span_of)
    resource_attributes = pc.struct_field(pc.struct_field(resources, "resource"), "attributes")
    span_attributes = pc.struct_field(spans, "attributes")
    return pa.table({
        "line_no": pc.take(numbers, pc.take(resource_of, span_resource)),
        "resource_attributes": pc.take(resource_attributes, span_resource),
        "resource_attributes_text": pc.take(_text_or_null(resource_attributes, cap, write_text), span_resource),
        "scope": pc.take(pc.struct_field(scope_spans, "scope"), span_of),
        "span": spans,
        "attributes_text": _text_or_null(span_attributes, cap, write_text),
    })


def _unnest(lists: pa.Array) -> tuple[pa.Array, pa.Array]:
    """The values of a list array (null lists hold none) and, for each, the index of its list."""
    return pc.list_flatten(lists), pc.list_parent_indices(lists)


def _text_or_null(key_values: pa.Array, cap: int, write_text: bool) -> pa.Array:
    return attributes_text(key_values, cap) if write_text else pa.nulls(len(key_values), pa.string())


_ESCAPES = (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"), ("\b", "\\b"),
            ("\f", "\\f"))
"""What to_json escapes in a string (duckdb 2.0, yyjson), backslash first. Any other control character
(to_json writes \\u00XX) can only come from such an escape in the line: a chunk holding one
(_OTHER_CONTROLS) leaves all its attributes' text to the macro."""
_OTHER_CONTROLS = r"\\u00[01][0-9A-Fa-f]"
_NEEDS_ESCAPE = r'[\\"\n\r\t\x08\x0c]'
"""Any character of _ESCAPES."""
_INTEGER = r"^(0|-?[1-9][0-9]{0,17})$"
"""intValue text that TRY_CAST(... AS BIGINT) gives back unchanged (18 digits always fit)."""


def attributes_text(key_values: pa.Array, cap: int) -> pa.Array:
    """halo_otlp_attributes of each KeyValue list (otlp_macros.sql) as Arrow computes it, NULL where the
    macro must write it: a double, a cut string, an int not written canonically, a key missing or given
    twice. Its text is the macro's, to the byte. No string may hold a control character other than those
    of _ESCAPES (the caller checks)."""
    offsets = pc.subtract(key_values.offsets, key_values.offsets[0])
    pairs = key_values.values.slice(key_values.offsets[0].as_py(), offsets[-1].as_py())
    keys = pc.dictionary_encode(pc.struct_field(pairs, "key"))  # a few distinct keys: escaped once each
    value = pc.struct_field(pairs, "value")
    string, integer, flag, double, raw_bytes = (pc.struct_field(value, name) for name in
                                                ("stringValue", "intValue", "boolValue", "doubleValue", "bytesValue"))
    null_text = pa.scalar(None, pa.string())
    value_text = pc.case_when(
        pc.make_struct(pc.is_valid(string), pc.is_valid(integer), pc.is_valid(flag), pc.is_valid(double),
                       pc.is_valid(raw_bytes)),
        pc.if_else(pc.greater(pc.binary_length(string), cap), null_text, _json_string(string)),
        pc.if_else(pc.match_substring_regex(integer, _INTEGER), integer, null_text),
        pc.if_else(flag, "true", "false"),
        null_text,
        _json_string(raw_bytes),
        "null",
    )
    key_json = pc.take(_json_string(keys.dictionary), keys.indices)
    members = pc.binary_join_element_wise(key_json, value_text, ":")
    plain = pa.ListArray.from_arrays(offsets, members)
    text = pc.binary_join_element_wise("{", pc.binary_join(plain, ","), "}", "")
    text = pc.if_else(key_values.is_null(), "{}", text)  # the macro's text of an absent list
    return pc.if_else(_written_twice(plain, keys), null_text, text)


def _written_twice(plain: pa.ListArray, keys: pa.DictionaryArray) -> pa.Array:
    """Per list, whether a key appears in it more than once (the macro then keeps the last)."""
    parents = pc.list_parent_indices(plain).cast(pa.int64())
    pair_ids = pc.add(pc.multiply(parents, len(keys.dictionary) + 1), keys.indices.cast(pa.int64()))
    if len(pc.unique(pair_ids)) == len(pair_ids):
        return pa.repeat(False, len(plain))
    counts = pa.table({"pair": pair_ids, "parent": parents}).group_by(["pair", "parent"]).aggregate([("pair", "count")])
    repeated = pc.filter(counts.column("parent"), pc.greater(counts.column("pair_count"), 1))
    return pc.is_in(pa.array(range(len(plain)), pa.int64()), value_set=repeated)


def _json_string(texts: pa.Array) -> pa.Array:
    """to_json of each string (NULL for NULL), given no control characters but those of _ESCAPES. Only the
    strings holding one of them are escaped (one regex pass over all, seven replace passes over those)."""
    needs_escape = pc.fill_null(pc.match_substring_regex(texts, _NEEDS_ESCAPE), False)
    if pc.any(needs_escape).as_py():
        escaped = pc.filter(texts, needs_escape)
        for plain, written in _ESCAPES:
            escaped = pc.replace_substring(escaped, plain, written)
        texts = pc.replace_with_mask(texts, needs_escape, escaped)
    return pc.binary_join_element_wise('"', texts, '"', "")
