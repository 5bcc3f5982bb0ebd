"""The fast parse of a chunk of OTLP/JSON Lines: Arrow's JSON reader instead of `json_transform`.

pyarrow's reader, with an explicit schema for the camelCase OTLP/JSON shape, types a chunk in a few
times less CPU than DuckDB's `json_transform` and on every core; DuckDB then scans the Arrow table
(`otlp_arrow_stage.sql`) and builds the stored columns with the very SQL of the regular parse
(`otlp_spans.sql`), so every column is the same.

The fast path takes a chunk only when it can read it exactly as `otlp_stage.sql` would; otherwise
`parse_chunk` returns False and the caller parses the chunk with the SQL, which names bad input with
its file and line as always. It declines a chunk when:
- Arrow raises: not JSON, not an object, a field of another type than the schema's (an int64 written as
  a number, a kind written as a name), a key written twice, a number out of range;
- the bytes are not UTF-8 (Arrow does not check), or a line holds more or less than one document;
- a line names a key only the SQL reads (snake_case, `batches`, `instrumentationLibrary*`), an AnyValue
  array or kvlist (decoded relationally by the SQL), a key with `\\u` escapes (it might spell one of
  those), or would fail the SQL's line checks (a list field or a "value" of the wrong kind, which Arrow
  may ignore where the schema does not reach).
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from halo_local.ingest.lines import Batch
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
_BLOCK_BYTES = 1 << 20
"""Arrow's unit of parallel work (grown to the longest line: a block holds whole documents)."""


def parse_chunk(work: duckdb.DuckDBPyConnection, batch: Batch) -> bool:
    """The batch's lines → halo_chunk_rows on `work`, as readers._parse_lines makes it; False (nothing
    made) when the fast path cannot read the batch exactly, for the caller to parse it with the SQL."""
    typed = _arrow_documents(batch)
    if typed is None:
        return False
    work.register("halo_arrow_chunk", typed)
    try:
        spans = sql_template("ingest/otlp_spans.sql", events=_mentions(batch.lines, '"events"'),
                             links=_mentions(batch.lines, '"links"'))
        stage = sql_text("ingest/otlp_arrow_stage.sql")
        work.execute(f"CREATE OR REPLACE TEMP TABLE halo_chunk_rows AS WITH halo_stage AS ({stage}) {spans}")
    finally:
        work.unregister("halo_arrow_chunk")
    return True


def _arrow_documents(batch: Batch) -> pa.Table | None:
    """(line_no, resourceSpans): one row per non-blank line, or None when the fast path declines it."""
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
    if not pc.all(pc.or_(pc.invert(filled), pc.match_substring_regex(lines, r"^[ \t\r]*\{"))).as_py():
        return None  # a line that is not an object: the SQL says which kind
    longest = pc.max(pc.binary_length(lines)).as_py() or 0
    data = b"\n".join(lines.to_pylist()) + b"\n"
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
    return pa.table({"line_no": numbers, "resourceSpans": table.column("resourceSpans")})


def _mentions(lines: pa.Array, quoted_key: str) -> bool:
    return bool(pc.any(pc.match_substring(lines, quoted_key)).as_py())
