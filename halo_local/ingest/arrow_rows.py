"""The stored columns of plain spans computed in Arrow, so that most chunks need no SQL at all.

`otlp_spans.sql` builds raw_spans' columns with macros that handle every shape OTLP/JSON allows (base64
ids, kind and status names, bad times, events and links). Most spans need none of that: their ids are
hex, their times plain decimal integers, their attributes' text written by Arrow (`attributes_text`),
and they have no events or links. For those spans, `plain_rows` computes the very same columns with a
few vectorised Arrow kernels (a few times less CPU than DuckDB scanning the nested table and running
the macros); every other span goes through the SQL as before, so each column stays the macro's to the
byte (tests/test_arrow_parse.py compares both paths row for row).
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

_TEXT = pa.string()
RAW_SCHEMA = pa.schema([
    ("source_line", pa.int64()), ("trace_id", _TEXT), ("span_id", _TEXT), ("parent_span_id", _TEXT),
    ("trace_state", _TEXT), ("name", _TEXT), ("kind", _TEXT), ("start_ns", pa.int64()), ("end_ns", pa.int64()),
    ("status_code", _TEXT), ("status_message", _TEXT), ("resource_attributes", _TEXT), ("attributes", _TEXT),
    ("scope_name", _TEXT), ("scope_version", _TEXT), ("events", _TEXT), ("links", _TEXT),
])
"""raw_spans' columns (raw_spans.sql) as the good rows of a chunk carry them to the storing thread."""

_KINDS = pa.array(["unspecified", "internal", "server", "client", "producer", "consumer"])
_STATUSES = pa.array(["unset", "ok", "error"])
_HEX = "^[0-9A-Fa-f]+$"
_ZEROS = "^0+$"
_SHORT_DECIMAL = "^-?[0-9]{1,18}$"
_LONG_DECIMAL = "^[0-9]{19}$"
_INT64_MAX = "9223372036854775807"


def plain_rows(spans: pa.Table) -> tuple[pa.Array, pa.Table]:
    """(which rows of `spans` (arrow_parse's flat table) are plain, raw_spans' rows of those rows)."""
    span = spans.column("span").combine_chunks()
    field = {name: pc.struct_field(span, name) for name in
             ("traceId", "spanId", "parentSpanId", "traceState", "name", "kind", "startTimeUnixNano",
              "endTimeUnixNano", "events", "links")}
    status = pc.struct_field(span, "status")
    scope = spans.column("scope").combine_chunks()
    resource_text = spans.column("resource_attributes_text").combine_chunks()
    text = spans.column("attributes_text").combine_chunks()
    parent = field["parentSpanId"]
    parent_absent = pc.or_kleene(pc.is_null(parent), pc.equal(parent, ""))
    end = field["endTimeUnixNano"]
    plain = _all_true(
        span.is_valid(), resource_text.is_valid(), text.is_valid(),
        _matches(field["traceId"], _HEX), _matches(field["spanId"], _HEX),
        pc.invert(_matches(field["traceId"], _ZEROS)), pc.invert(_matches(field["spanId"], _ZEROS)),
        pc.or_kleene(parent_absent, _matches(parent, _HEX)),
        _int64_text(field["startTimeUnixNano"]),
        pc.or_kleene(pc.is_null(end), _int64_text(end)),
        _empty(field["events"]), _empty(field["links"]),
    )
    if not pc.all(plain).as_py():
        spans, span, field, status, scope, resource_text, text = _only(
            plain, spans, span, field, status, scope, resource_text, text)
        parent_absent = pc.filter(parent_absent, plain)
    start_ns = pc.cast(field["startTimeUnixNano"], pa.int64())
    end_ns = pc.cast(field["endTimeUnixNano"], pa.int64())
    null_text = pa.scalar(None, _TEXT)
    parent_id = pc.ascii_lower(field["parentSpanId"])
    rows = pa.Table.from_arrays([
        spans.column("line_no").combine_chunks(),
        pc.ascii_lower(field["traceId"]),
        pc.ascii_lower(field["spanId"]),
        pc.if_else(pc.or_kleene(parent_absent, _matches(parent_id, _ZEROS)), null_text, parent_id),
        _null_if_empty(field["traceState"]),
        pc.fill_null(field["name"], ""),
        _named(field["kind"], _KINDS),
        start_ns,
        pc.if_else(pc.equal(end_ns, 0), pa.scalar(None, pa.int64()), end_ns),
        _named(pc.struct_field(status, "code"), _STATUSES),
        _null_if_empty(pc.struct_field(status, "message")),
        resource_text,
        text,
        _null_if_empty(pc.struct_field(scope, "name")),
        _null_if_empty(pc.struct_field(scope, "version")),
        pa.repeat(pa.scalar("[]"), len(text)),
        pa.repeat(pa.scalar("[]"), len(text)),
    ], schema=RAW_SCHEMA)
    return plain, rows


def _only(plain: pa.Array, spans: pa.Table, span: pa.Array, field: dict[str, pa.Array], status: pa.Array,
          scope: pa.Array, resource_text: pa.Array, text: pa.Array
          ) -> tuple[pa.Table, pa.Array, dict[str, pa.Array], pa.Array, pa.Array, pa.Array, pa.Array]:
    """Every column given, of the plain rows alone."""
    return (spans.filter(plain), pc.filter(span, plain), {name: pc.filter(values, plain) for name, values in field.items()},
            pc.filter(status, plain), pc.filter(scope, plain), pc.filter(resource_text, plain), pc.filter(text, plain))


def _matches(texts: pa.Array, pattern: str) -> pa.Array:
    """Whether each text matches `pattern` (false for NULL)."""
    return pc.fill_null(pc.match_substring_regex(texts, pattern), False)


def _int64_text(texts: pa.Array) -> pa.Array:
    """Whether each text is a decimal integer that TRY_CAST(... AS BIGINT) and Arrow's cast read alike: of
    at most 18 digits, or of 19 not above int64's maximum (a time in nanoseconds); false for NULL."""
    long_enough = pc.and_kleene(_matches(texts, _LONG_DECIMAL), pc.less_equal(texts, _INT64_MAX))
    return pc.or_kleene(_matches(texts, _SHORT_DECIMAL), pc.fill_null(long_enough, False))


def _empty(lists: pa.Array) -> pa.Array:
    """Whether each list is absent or empty (the macros write '[]' for both)."""
    return pc.equal(pc.fill_null(pc.list_value_length(lists), 0), 0)


def _all_true(*conditions: pa.Array) -> pa.Array:
    result = conditions[0]
    for condition in conditions[1:]:
        result = pc.and_kleene(result, condition)
    return pc.fill_null(result, False)


def _null_if_empty(texts: pa.Array) -> pa.Array:
    """nullif(text, '')."""
    return pc.if_else(pc.equal(texts, ""), pa.scalar(None, _TEXT), texts)


def _named(codes: pa.Array, names: pa.Array) -> pa.Array:
    """halo_kind / halo_status of integer codes: the code's name, else (NULL, out of range) the first."""
    known = pc.and_kleene(pc.greater_equal(codes, 0), pc.less(codes, len(names)))
    return pc.take(names, pc.if_else(pc.fill_null(known, False), codes, 0))
