"""Trace files → the TEMP table `raw_spans` (its columns are documented in `halo_local.ingest`).

`lines` streams the file and cuts it into batches of lines with Arrow; each batch goes to DuckDB,
which parses it with explicit types (`sql/ingest/*.sql`) — no Python loop per span or per line, and
exact line numbers.

Bad input never raises inside DuckDB (that would abort the loader's transaction): each batch becomes
rows with a `read_error`, and the reader stops at the first one or, with `skip_invalid`, leaves those
records out and counts them. A record is a line (not UTF-8, not JSON, a list field that is not a list)
or a span (no trace or span id, a start time that is not an integer).

Decisions worth knowing:
- An empty (or whitespace-only) file reads as zero spans, not an error: collectors create files before
  they write to them. `detect_format` calls such a file OTLP/JSON.
- A span that ends before it starts is kept as it is (raw data is raw); normalize decides.
- A JSON array at the top level (of a file or of a line) is read as a list of documents (OTLP) or of
  spans (HALO JSONL).
- A file is read line by line (JSON Lines; a minified single document is one line) unless it opens with
  `{` or `[` and its first two non-blank lines are not JSON on their own: a pretty-printed document,
  read whole as "line 1", whose errors name the line found in the text.
- AnyValue arrays and kvlists are decoded to plain JSON down to `MAX_ANYVALUE_DEPTH` levels of nesting
  (one SQL statement per level actually present, and only for the values that are arrays or kvlists);
  deeper ones are kept as their raw AnyValue JSON text, in a string.
"""

from __future__ import annotations

import contextlib
import glob
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from halo_local.errors import HaloLocalError, InvalidTraceFileError, NotTraceFileError, UsageError
from halo_local.ingest.json_types import (
    HALO_RECORD_TYPE,
    RESOURCE_SPANS_KEYS,
    SCOPE_KEYS,
    SCOPE_SPANS_KEYS,
    ContainerKeys,
    otlp_document_type,
)
from halo_local.ingest.lines import (
    HALO_MARKER,
    OTLP_MARKER,
    Batch,
    LinePosition,
    explain,
    invalid_record,
    is_json,
    is_pretty_document,
    line_batches,
    line_numbers,
    line_table,
    peek,
)
from halo_local.ingest.scratch import reused_database
from halo_local.resources import sql_template, sql_text

SUPPORTED_FORMATS = ("otlp-json", "halo-jsonl")
MAX_ANYVALUE_DEPTH = 64
"""AnyValue arrays / kvlists nested deeper than this stay raw AnyValue JSON text."""

TRACE_FILE_SUFFIXES = (".json", ".jsonl", ".ndjson", ".pb", ".binpb")
"""What a directory contributes (also with .gz or .zst appended); files named explicitly are read whatever
their name. Formats are told by content, not by these names."""

MAX_FIRST_SKIPPED = 5
CONSUME_EVERY_SPANS = 50_000
"""How many spans read_trace_file gathers before handing them to `consume` (a few hundred MB at most)."""
_GLOB_CHARACTERS = re.compile(r"[*?\[]")
_CONTAINER_KEY = '"(?:arrayValue|kvlistValue)"'


@dataclass(frozen=True)
class SkippedRecord:
    """A line (or span) left out by `skip_invalid`, and why."""

    line: int
    reason: str


@dataclass(frozen=True)
class ReadResult:
    """What `read_trace_file` put into raw_spans."""

    path: Path
    format: str
    spans_read: int
    skipped: int
    first_skipped: list[SkippedRecord] = field(default_factory=list)
    # Where the complete lines read end (the byte after the last newline) and how many lines that is,
    # counted from the start of the file: where the next read of a growing file may resume. None for a
    # whole JSON document or a gzip file.
    resume_at: LinePosition | None = None


def expand_paths(paths: Sequence[str | Path]) -> list[Path]:
    """Resolve files, directories (recursively, trace files only) and globs to sorted unique files.

    Each argument must match at least one file, so that a typo is an error rather than a silent no-op.
    """
    found: set[Path] = set()
    for given in paths:
        text = str(given)
        candidate = Path(text).expanduser()
        if candidate.exists():
            matches = [candidate]
        elif _GLOB_CHARACTERS.search(text):
            matches = [Path(name) for name in glob.glob(str(candidate), recursive=True)]
        else:
            matches = []
        files = [file for match in matches for file in _files_under(match)]
        if not files:
            raise HaloLocalError(
                f"no trace files match {text}",
                hint="give files, directories holding *.json/*.jsonl/*.ndjson/*.pb/*.binpb (or .gz/.zst), "
                "or a glob such as 'traces/**/*.jsonl'",
            )
        found.update(file.resolve() for file in files)
    return sorted(found)


def named_files(paths: Sequence[str | Path]) -> set[Path]:
    """The arguments that name a file itself (resolved), as opposed to directories and globs, whose
    files that hold no traces are left alone."""
    return {Path(str(given)).expanduser().resolve() for given in paths if Path(str(given)).expanduser().is_file()}


def _files_under(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        return []
    return [
        child
        for child in path.rglob("*")
        if child.is_file()
        and not any(part.startswith(".") for part in child.relative_to(path).parts)
        and _is_trace_file_name(child.name)
    ]


def _is_trace_file_name(name: str) -> bool:
    lowered = name.lower().removesuffix(".gz").removesuffix(".zst")
    return lowered.endswith(TRACE_FILE_SUFFIXES)


def detect_format(path: Path) -> str:
    """"otlp-json" or "halo-jsonl", from the first key that only one of the formats has."""
    head = peek(path, stop_at_marker=True)
    if not head.strip():
        return "otlp-json"
    otlp = OTLP_MARKER.search(head)
    halo = HALO_MARKER.search(head)
    if otlp is not None and (halo is None or otlp.start() < halo.start()):
        return "otlp-json"
    if halo is not None:
        if not _may_be_halo_span(head):
            raise NotTraceFileError(
                str(path), "is JSON with trace ids but no spans: its first record has none of span_id, "
                "parent_span_id, start_time, end_time (labels or a report beside the traces?)",
                hint="if it is HALO JSON Lines, pass --format halo-jsonl to read it anyway",
            )
        return "halo-jsonl"
    first_line, line_number = _first_record(head)
    if not is_pretty_document(head) and not is_json(first_line):
        raise InvalidTraceFileError(
            str(path), "is not valid JSON", line=line_number,
            hint="halo-local reads OTLP/JSON (a document or JSON Lines of them), OTLP protobuf and HALO JSON Lines",
        )
    raise NotTraceFileError(
        str(path),
        "is neither OTLP/JSON (no resourceSpans) nor HALO JSON Lines (no trace_id) as far as it was read "
        f"({len(head):,} bytes)",
        hint="if it is one of them, pass --format otlp-json or --format halo-jsonl",
    )


_HALO_SPAN_KEYS = frozenset({"span_id", "parent_span_id", "start_time", "end_time"})


def _may_be_halo_span(head: bytes) -> bool:
    """False only when the first record is readable JSON and, at its top, no span: a HALO span always
    has one of _HALO_SPAN_KEYS, even a damaged one, whose errors the reader then reports by line."""
    text = head if is_pretty_document(head) else _first_record(head)[0]
    try:
        record = json.loads(text)
    except (ValueError, RecursionError):
        return True
    if isinstance(record, list):
        record = record[0] if record else None
    return not isinstance(record, dict) or not _HALO_SPAN_KEYS.isdisjoint(record)


def _first_record(head: bytes) -> tuple[bytes, int]:
    """The first non-blank line of `head` and its 1-based number."""
    for number, line in enumerate(head.split(b"\n"), start=1):
        if line.strip():
            return line, number
    return b"", 1


def read_trace_file(
    connection: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    format: str = "auto",
    skip_invalid: bool = False,
    consume: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
    consume_every: int = CONSUME_EVERY_SPANS,
    start: LinePosition | None = None,
) -> ReadResult:
    """(Re)create TEMP table raw_spans on `connection` holding the spans of one trace file.

    Raises InvalidTraceFileError naming the file, the line and what is wrong at the first bad record,
    unless `skip_invalid`: then bad records are left out and counted. raw_spans is dropped on error.

    With `consume`, the file is read a part at a time instead, into raw_spans of a private scratch
    database: `consume(scratch)` is called whenever it holds at least `consume_every` spans and once at
    the end, and raw_spans is emptied after each call, so that memory stays bounded however large the
    file is (nothing is written to `connection`). Parts follow the file's line order.

    With `start` (a JSON Lines file, not gzip), reading begins there: the lines before it are not read,
    and line numbers in errors still count from the start of the file.
    """
    path = Path(path)
    if format != "auto" and format not in SUPPORTED_FORMATS:
        raise UsageError(
            f"unknown trace format {format!r}",
            hint=f"use auto or one of: {', '.join(SUPPORTED_FORMATS)}",
        )
    chosen = detect_format(path) if format == "auto" else format
    skipped = 0
    spans_read = 0
    pending = 0
    first_skipped: list[SkippedRecord] = []
    resume_at: LinePosition | None = start or LinePosition(0, 0)
    # The work happens in a private in-memory database (`scratch`): its scratch tables are freed batch by
    # batch (while the caller's transaction is open, the caller's database keeps every dropped version until
    # it ends, even those of other connections), and nothing that goes wrong there can abort the caller's
    # transaction. Only finished rows cross over, as Arrow.
    try:
        with reused_database(work_settings(connection)) as work:
            target = work if consume is not None else connection
            target.execute(sql_text("ingest/raw_spans.sql"))
            for batch in line_batches(path, start or LinePosition(0, 0)):
                resume_at = batch.resume_after(resume_at)
                _parse_batch(work, chosen, batch)
                bad_count, bad_rows = _single_row(
                    work.execute(sql_text("ingest/batch_errors.sql"), {"limit": MAX_FIRST_SKIPPED})
                )
                if bad_count:
                    if not skip_invalid:
                        raise invalid_record(path, batch, bad_rows[0]["line"], bad_rows[0]["reason"])
                    skipped += bad_count
                    for bad in bad_rows[: MAX_FIRST_SKIPPED - len(first_skipped)]:
                        first_skipped.append(SkippedRecord(*explain(batch, bad["line"], bad["reason"])))
                good = _append_raw_spans(work, target)
                work.execute("DROP TABLE IF EXISTS halo_chunk_rows")
                spans_read += good
                pending += good
                if consume is not None and pending >= consume_every:
                    consume(work)
                    work.execute(sql_text("ingest/raw_spans.sql"))
                    pending = 0
            if consume is not None and pending:
                consume(work)
    except BaseException:
        _drop_quietly(connection, "raw_spans")
        raise
    return ReadResult(
        path=path, format=chosen, spans_read=spans_read, skipped=skipped, first_skipped=first_skipped,
        resume_at=resume_at,
    )


FILE_LINE_STRIDE = 1 << 40
"""The source_line of a span read by read_file_group: its file's index times this, plus its line."""


@dataclass(frozen=True)
class GroupRead:
    """What read_file_group put into raw_spans, per file of the group (in the group's order)."""

    spans_read: list[int]
    resume_at: list[LinePosition | None]


def read_file_group(work: duckdb.DuckDBPyConnection, paths: Sequence[Path], chosen_format: str) -> GroupRead | None:
    """TEMP table raw_spans on `work` (a parser database of `scratch`) holding the spans of several small files of one format, parsed in one
    statement (planning the parse costs more than parsing a small file). source_line tells the files apart
    (FILE_LINE_STRIDE). None, with raw_spans empty, when any record of any of them is bad: the caller then
    reads the files one at a time, so that the bad one names itself and skip-invalid counts per file.
    """
    work.execute(sql_text("ingest/raw_spans.sql"))
    numbers: list[pa.Array] = []
    raws: list[pa.Array] = []
    resumes: list[LinePosition | None] = []
    for index, path in enumerate(paths):
        resume_at: LinePosition | None = LinePosition(0, 0)
        for batch in line_batches(path, LinePosition(0, 0)):
            resume_at = batch.resume_after(resume_at)
            numbers.append(line_numbers(index * FILE_LINE_STRIDE + batch.first_line, len(batch.lines)))
            raws.append(batch.lines)
        resumes.append(resume_at)
    counts: dict[int, int] = {}
    if raws:
        _parse_lines(work, chosen_format, line_table(pa.concat_arrays(numbers), pa.concat_arrays(raws)))
        bad_count, _ = _single_row(work.execute(sql_text("ingest/batch_errors.sql"), {"limit": 1}))
        if bad_count:
            work.execute("DROP TABLE IF EXISTS halo_chunk_rows")
            work.execute(sql_text("ingest/raw_spans.sql"))
            return None
        _append_raw_spans(work, work)
        work.execute("DROP TABLE IF EXISTS halo_chunk_rows")
        counts = dict(work.execute(sql_text("ingest/group_counts.sql"), {"stride": FILE_LINE_STRIDE}).fetchall())
    return GroupRead(spans_read=[counts.get(index, 0) for index in range(len(paths))], resume_at=resumes)


def work_settings(connection: duckdb.DuckDBPyConnection) -> dict[str, str | bool | int | float | list[str]]:
    """The private database's settings: the store's memory limit and spill folder (it holds one part)."""
    memory_limit, temp_directory = _single_row(connection.execute(
        "SELECT current_setting('memory_limit'), current_setting('temp_directory')"))
    return {"memory_limit": memory_limit, "temp_directory": temp_directory, "preserve_insertion_order": "false"}


def _append_raw_spans(work: duckdb.DuckDBPyConnection, target: duckdb.DuckDBPyConnection) -> int:
    """Append the good rows of halo_chunk_rows (on `work`) to raw_spans on `target`; returns how many.

    Within the work database they are copied by SQL; only to another database do they cross as Arrow."""
    good_rows = "SELECT * EXCLUDE (read_error) FROM halo_chunk_rows WHERE read_error IS NULL"
    if target is work:
        (count,) = _single_row(work.execute(f"INSERT INTO raw_spans {good_rows}"))
        return int(count)
    rows = work.sql(good_rows).to_arrow_table()
    target.register("halo_good_rows", rows)
    try:
        target.execute("INSERT INTO raw_spans SELECT * FROM halo_good_rows")
    finally:
        target.unregister("halo_good_rows")
    return int(rows.num_rows)


def _single_row(result: duckdb.DuckDBPyConnection) -> tuple[Any, ...]:
    """The one row of a result, read to the end (DuckDB 2.0 blocks a connection with a half-read result)."""
    (row,) = result.fetchall()
    return row


def _drop_quietly(connection: duckdb.DuckDBPyConnection, table: str) -> None:
    """Best-effort cleanup: after an aborted transaction even a DROP fails, and the caller rolls back anyway."""
    with contextlib.suppress(duckdb.Error):
        connection.execute(f"DROP TABLE IF EXISTS {table}")


# --- SQL -------------------------------------------------------------------------------------------



def _parse_batch(work: duckdb.DuckDBPyConnection, chosen_format: str, batch: Batch) -> None:
    """Lines → halo_chunk_rows on `work`: the raw_spans columns plus read_error (NULL when the row is good)."""
    _parse_lines(work, chosen_format, batch.table)


def _parse_lines(work: duckdb.DuckDBPyConnection, chosen_format: str, lines: pa.Table) -> None:
    """`lines` (line_no, raw) → halo_chunk_rows on `work`, as _parse_batch."""
    work.register("halo_chunk", lines)
    try:
        raw = lines.column("raw")
        escaped = _mentions(raw, "\\u")  # a key may be written with \u escapes
        if chosen_format == "halo-jsonl":
            work.execute(sql_template("ingest/halo_jsonl.sql", events=escaped or _mentions(raw, '"events"'),
                                      links=escaped or _mentions(raw, '"links"')), {"record_type": HALO_RECORD_TYPE})
        else:
            keys = ContainerKeys() if escaped else _container_keys(raw)
            stage = sql_template("ingest/otlp_stage.sql", resource_keys=keys.resource_keys,
                                 scope_spans_keys=keys.scope_spans_keys, scope_keys=keys.scope_keys)
            containers = _may_hold_containers(raw)
            spans = sql_template("ingest/otlp_spans.sql", events=escaped or _mentions(raw, '"events"'),
                                 links=escaped or _mentions(raw, '"links"'), decoded=containers)
            parameters = {"document_type": otlp_document_type(keys)}
            if containers:
                work.execute(f"CREATE OR REPLACE TEMP TABLE halo_stage AS {stage}", parameters)
                work.execute(sql_text("ingest/anyvalue_roots.sql"))
                _decode_anyvalue_tree(work)
                work.execute(f"CREATE OR REPLACE TEMP TABLE halo_chunk_rows AS {spans}")
            else:
                work.execute(f"CREATE OR REPLACE TEMP TABLE halo_chunk_rows AS WITH halo_stage AS ({stage}) {spans}",
                             parameters)
    finally:
        work.unregister("halo_chunk")


def _may_hold_containers(lines: pa.ChunkedArray | pa.Array) -> bool:
    """Whether any line may hold an AnyValue array or kvlist: only then is the batch staged in a table and
    decoded relationally (anyvalue_*.sql). A mention inside a string only costs that slower path. One RE2
    pass over the raw bytes, which is cheaper than decoding them as text in DuckDB."""
    return bool(pc.any(pc.match_substring_regex(lines, _CONTAINER_KEY)).as_py())


def _container_keys(lines: pa.ChunkedArray | pa.Array) -> ContainerKeys:
    """The container names that some line of `lines` holds, quoted as a key is (or in a value, which
    costs only a wider type), each list led by its preferred name."""

    def present(names: tuple[str, ...]) -> tuple[str, ...]:
        return names[:1] + tuple(name for name in names[1:] if _mentions(lines, f'"{name}"'))

    return ContainerKeys(present(RESOURCE_SPANS_KEYS), present(SCOPE_SPANS_KEYS), present(SCOPE_KEYS))


def _mentions(lines: pa.ChunkedArray | pa.Array, quoted_key: str) -> bool:
    """Whether any line holds `quoted_key` (as a key or not): when none does, no span has that field."""
    return bool(pc.any(pc.match_substring(lines, quoted_key)).as_py())


def _decode_anyvalue_tree(connection: duckdb.DuckDBPyConnection) -> None:
    """Expand the arrays / kvlists in halo_anyvalues level by level, then write their JSON from the leaves up."""
    deepest = 0
    while deepest < MAX_ANYVALUE_DEPTH:
        (added,) = _single_row(connection.execute(sql_text("ingest/anyvalue_children.sql"), {"level": deepest}))
        if not added:
            break
        deepest += 1
    connection.execute("CREATE OR REPLACE TEMP TABLE halo_anyvalue_texts (node BIGINT, text VARCHAR)")
    for level in range(deepest, -1, -1):
        connection.execute(
            sql_text("ingest/anyvalue_assemble.sql"),
            {"level": level, "keep_raw": level == MAX_ANYVALUE_DEPTH},
        )
    connection.execute(sql_text("ingest/anyvalue_apply.sql"))
