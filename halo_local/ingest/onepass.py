"""The path for big files: each line parsed once, on a second thread, while the spans before it are stored.

`read_trace_file` parses a batch, then normalizes, then parses the next: one core waits while the other
works, and every part pays the extraction of all ~130 mapped attribute paths. Here a parser thread, with a
private in-memory database of its own, reads the file in chunks of `CHUNK_BYTES` of whole lines and
parses each into Arrow (Arrow's JSON reader where it reads the chunk exactly, `arrow_parse`, else the
readers' SQL; every stored column comes from the same SQL either way), while the calling
thread gathers the chunks into raw_spans and hands each part of CONSUME_EVERY_SPANS spans to `consume`
(normalize and insert); DuckDB releases the GIL, so both cores work. Up to PARSED_AHEAD parsed chunks
wait in between. The extraction is rendered per part for the attribute keys it holds (`present_keys_only`),
which Arrow's parse lists from the typed key/value lists (`_consume_part`), with whether any line names an
indexed key's prefix, so that normalize parses no span's attributes text to find either.

Every guarantee of `read_trace_file` is kept: the first bad record names the file and line and raises
before the caller commits anything (the thread is stopped), `skip_invalid` counts and leaves out bad
records, a grown file is read from `start`, gzip and zstd decode through the same stream with its cap.
"""

from __future__ import annotations

import dataclasses
import os
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from halo_local.errors import UsageError
from halo_local.ingest import arrow_parse, arrow_rows
from halo_local.ingest.lines import Batch, LinePosition, explain, invalid_record, line_batches
from halo_local.ingest.normalize import KNOWN_KEYS_VARIABLE, NO_INDEXED_KEYS_VARIABLE, indexed_key_prefixes
from halo_local.ingest.readers import (
    CONSUME_EVERY_SPANS,
    MAX_FIRST_SKIPPED,
    SUPPORTED_FORMATS,
    ReadResult,
    SkippedRecord,
    _parse_lines,
    _single_row,
    detect_format,
    work_settings,
)
from halo_local.ingest.scratch import SharedDatabases
from halo_local.resources import sql_text

MIN_BYTES_ENV = "HALO_ONEPASS_MIN_BYTES"
DEFAULT_MIN_BYTES = 16 << 20
"""Files at least this large (on disk, one parse chunk) take the one-pass path: below it the thread has
nothing to overlap (it would still be right: tests force it on every file)."""
CHUNK_BYTES = 8 << 20
"""Bytes of whole lines parsed at a time. Parsing ~400 KB lines takes about 20 times their size in memory
(a vector of whole typed documents), so chunks stay small: at 1M spans 16 MiB chunks peaked at ~1.2 GB of
RSS and 8 MiB at ~1.03 GB for ~5% more CPU (4 MiB saved no more and cost 20%). The calling thread gathers
chunks into parts of CONSUME_EVERY_SPANS spans to normalize, as read_trace_file does."""
ARROW_PARSE = True
"""Whether OTLP/JSON chunks try Arrow's parse first (`arrow_parse`); off, every chunk takes the SQL parse."""
PARSED_AHEAD = 4
"""Parsed chunks that may wait for the calling thread, so that the parser parses ahead while the calling
thread normalizes a part. With one, it waited for the calling thread, which then waited for it (at 1M spans,
19-27 s and 21-36 s of wall, against 4.5-5.3 and 3.2-4 s with 7 or 8); the waiting chunks hold their rows only
(`_handed_over`). Since a part's raw_spans is filled in one transaction (`_begin_part`), six waiting chunks
took the 1M load to 980-1074 MiB of peak RSS, four to 946-996 MiB for the same wall (alternated)."""
WORK_THREADS = 1
"""DuckDB threads of the work database, where the calling thread normalizes the parts. With two (one per
core) the parts cost ~25% more CPU (2.15 against 1.70 CPU-s per 100k spans) for no shorter wall: the
parser thread and the store's writer (`store_writer`) keep the other core busy."""


def applies(size_bytes: int) -> bool:
    """Whether a file of this size is loaded by `read_big_file` (HALO_ONEPASS_MIN_BYTES, 0: every file)."""
    text = os.environ.get(MIN_BYTES_ENV, "").strip()
    threshold = int(text) if text.isdigit() else DEFAULT_MIN_BYTES
    return size_bytes >= threshold


@dataclass(frozen=True)
class _Parsed:
    """One chunk as the parser thread hands it over: its good rows, and its bad records."""

    batch: Batch
    rows: pa.Table
    bad_count: int
    bad_rows: list[dict[str, Any]]
    fast: bool  # parsed by Arrow (arrow_parse), not by the SQL
    attribute_keys: frozenset[str] | None  # arrow_parse.ArrowChunk's, None when not known
    names_no_prefix: bool  # arrow_parse.ArrowChunk's: no line names an indexed key's prefix


_DONE = object()


class _Parser(threading.Thread):
    """Parses the file's chunks into a queue of `_Parsed` (then `_DONE`, or the exception it met) on
    `database`, which it uses alone until stopped."""

    def __init__(self, path: Path, chosen: str, start: LinePosition, database: duckdb.DuckDBPyConnection,
                 prefixes: tuple[str, ...]) -> None:
        super().__init__(name="halo-onepass-parser", daemon=True)
        self.path, self.chosen, self.from_position, self.database = path, chosen, start, database
        self.prefixes = prefixes
        self.chunks: queue.Queue[object] = queue.Queue(maxsize=PARSED_AHEAD)
        self.stopping = threading.Event()
        self.finished = False  # every chunk parsed without an error

    def run(self) -> None:
        try:
            for batch in line_batches(self.path, self.from_position, CHUNK_BYTES):
                if self.stopping.is_set():
                    return
                parsed = _parse_chunk(self.database, self.chosen, batch, self.prefixes)
                del batch  # its bytes and lines: the parsed chunk keeps its lines only to explain a bad record
                self._put(parsed)
                del parsed
            self.finished = True
            self._put(_DONE)
        except BaseException as error:  # handed to the reading thread, which raises it
            self._put(error)

    def _put(self, item: object) -> None:
        while not self.stopping.is_set():
            try:
                self.chunks.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def next_chunk(self) -> _Parsed | None:
        """The next parsed chunk, None after the last; raises what the thread met. (No generator: its
        frame would hold the previous chunk while the caller stores the next.)"""
        item = self.chunks.get()
        if isinstance(item, BaseException):
            raise item
        return item if isinstance(item, _Parsed) else None

    def stop(self) -> None:
        self.stopping.set()
        self.join()


def _parse_chunk(parser: duckdb.DuckDBPyConnection, chosen: str, batch: Batch, prefixes: tuple[str, ...] = ()) -> _Parsed:
    """One chunk through Arrow's parse where it can read it exactly, else the readers' parse SQL: its good
    rows as Arrow, and its bad records. Arrow computes the rows of plain spans itself (`arrow_rows`): a chunk
    of only those runs no SQL at all."""
    arrow = arrow_parse.parse_chunk(parser, batch, prefixes) if ARROW_PARSE and chosen == "otlp-json" else None
    if arrow is not None and not arrow.rest_in_sql:
        return _Parsed(_handed_over(batch, 0), arrow.rows, 0, [], True, arrow.attribute_keys, arrow.names_no_prefix)
    if arrow is None:
        _parse_lines(parser, chosen, batch.table)
    bad_count, bad_rows = _single_row(parser.execute(sql_text("ingest/batch_errors.sql"), {"limit": MAX_FIRST_SKIPPED}))
    rows = parser.sql(sql_text("ingest/onepass_good_rows.sql")).to_arrow_table().cast(arrow_rows.RAW_SCHEMA)
    parser.execute("DROP TABLE IF EXISTS halo_chunk_rows")
    if arrow is not None and arrow.rows.num_rows:
        rows = pa.concat_tables([arrow.rows, rows])
    return _Parsed(_handed_over(batch, int(bad_count)), rows, int(bad_count), list(bad_rows), arrow is not None,
                   arrow.attribute_keys if arrow is not None else None,
                   arrow is not None and arrow.names_no_prefix)


def _handed_over(batch: Batch, bad_count: int) -> Batch:
    """The batch as the parsed chunk keeps it: without its joined bytes, and without its lines unless a bad
    record is to be explained from them (`lines.explain`), so that the chunks waiting in the queue hold
    only their rows."""
    lines = batch.lines if bad_count else pa.array([], batch.lines.type)
    return dataclasses.replace(batch, joined=None, lines=lines)


def _return_freed_memory() -> None:
    """Make Arrow allocate with the system allocator from here on in this process.

    Arrow's default pool (mimalloc) keeps the memory of parsed chunks it freed: at 1M spans the load
    peaked at 1115-1150 MiB of RSS with it and at 1035-1054 MiB with the system allocator, for the same
    CPU (65.4 against 64.6 CPU-s, measured alternately in one sitting)."""
    pa.set_memory_pool(pa.system_memory_pool())


def read_big_file(
    connection: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    format: str = "auto",
    skip_invalid: bool = False,
    consume: Callable[[duckdb.DuckDBPyConnection], None],
    start: LinePosition | None = None,
    shared: SharedDatabases | None = None,
) -> ReadResult:
    """`read_trace_file` with `consume`, for a big file: `consume(work)` is called whenever raw_spans of the
    private database `work` holds CONSUME_EVERY_SPANS spans, and once at the end (nothing is written to
    `connection`). With `shared`, the parser's and the work database come from there and go back to it."""
    path = Path(path)
    if format != "auto" and format not in SUPPORTED_FORMATS:
        raise UsageError(f"unknown trace format {format!r}", hint=f"use auto or one of: {', '.join(SUPPORTED_FORMATS)}")
    chosen = detect_format(path) if format == "auto" else format
    skipped = 0
    spans_read = 0
    first_skipped: list[SkippedRecord] = []
    resume_at: LinePosition | None = start or LinePosition(0, 0)
    settings = work_settings(connection)
    work_database_settings = {**settings, "threads": WORK_THREADS}
    _return_freed_memory()
    databases = shared or SharedDatabases()
    work = databases.take("work", work_database_settings)
    parser_database = databases.take("parser", settings)
    parser = _Parser(path, chosen, start or LinePosition(0, 0), parser_database, indexed_key_prefixes(work))
    read_whole = False
    part_begun = False  # whether raw_spans holds the part's first chunks, in a transaction (`_begin_part`)
    pending = 0
    part_keys: set[str] | None = set()  # the attribute keys of the part's spans, while known of every chunk
    part_indexed = False  # whether a chunk of the part may hold an indexed key
    parser.start()
    try:
        while (parsed := parser.next_chunk()) is not None:
            batch = parsed.batch
            if batch.ends_with_newline or batch.whole_document:
                resume_at = batch.resume_at
            if parsed.bad_count:
                if not skip_invalid:
                    first_bad = parsed.bad_rows[0]
                    raise invalid_record(path, batch, first_bad["line"], first_bad["reason"])
                skipped += parsed.bad_count
                for bad in parsed.bad_rows[: MAX_FIRST_SKIPPED - len(first_skipped)]:
                    first_skipped.append(SkippedRecord(*explain(batch, bad["line"], bad["reason"])))
            spans_read += parsed.rows.num_rows
            pending += parsed.rows.num_rows
            part_keys = None if part_keys is None or parsed.attribute_keys is None else part_keys | parsed.attribute_keys
            part_indexed = part_indexed or not parsed.names_no_prefix
            if not part_begun:
                _begin_part(work)
                part_begun = True
            _append(work, parsed.rows)
            del parsed, batch  # raw_spans holds the rows now: the Arrow copy and the lines go
            if pending >= CONSUME_EVERY_SPANS:
                work.execute("COMMIT")
                _consume_part(work, consume, part_keys, part_indexed)
                work.execute("DROP TABLE raw_spans")  # its memory now, not when the next chunk comes
                pending, part_keys, part_indexed, part_begun = 0, set(), False, False
        if part_begun:
            work.execute("COMMIT")
        if pending:
            _consume_part(work, consume, part_keys, part_indexed)
        read_whole = True
    finally:
        parser.stop()
        if read_whole and parser.finished:
            databases.give_back("work", work_database_settings, work)
            databases.give_back("parser", settings, parser_database)
        else:
            work.close()
            parser_database.close()
        if shared is None:
            databases.close()
    return ReadResult(path=path, format=chosen, spans_read=spans_read, skipped=skipped,
                      first_skipped=first_skipped, resume_at=resume_at)


def _consume_part(work: duckdb.DuckDBPyConnection, consume: Callable[[duckdb.DuckDBPyConnection], None],
                  attribute_keys: set[str] | None, indexed: bool = True) -> None:
    """`consume(work)`, telling normalize what Arrow's parse knew of the part: the attribute keys its spans
    hold (normalize.KNOWN_KEYS_VARIABLE), so that it does not parse every span's attributes to list them,
    and that none names an indexed key (NO_INDEXED_KEYS_VARIABLE), so that it does not search every
    span's attributes for one."""
    work.execute(f"SET VARIABLE {KNOWN_KEYS_VARIABLE} = ?", [None if attribute_keys is None else sorted(attribute_keys)])
    work.execute(f"SET VARIABLE {NO_INDEXED_KEYS_VARIABLE} = ?", [not indexed])
    try:
        consume(work)
    finally:
        work.execute(f"RESET VARIABLE {KNOWN_KEYS_VARIABLE}")
        work.execute(f"RESET VARIABLE {NO_INDEXED_KEYS_VARIABLE}")


def _begin_part(work: duckdb.DuckDBPyConnection) -> None:
    """An empty raw_spans for the next part, its JSON columns as text (raw_spans_text.sql: checked once, by the
    store's insert), and a transaction that its chunks are appended in (`_append`), committed before the part
    is normalized.

    Appended chunk by chunk, each insert committed on its own, a part's raw_spans cost twice the CPU to fill
    (0.069 against 0.034-0.044 CPU-s for 52k spans) and the extraction that scans it next ~35% more
    (extract_plain.sql 0.79-0.88 against 0.57-0.64 CPU-s at 200k spans), the same rows appended in one
    transaction, or in one insert, as fast as each other; one insert would hold the part's Arrow rows too."""
    work.execute(sql_text("ingest/raw_spans.sql"))
    work.execute(sql_text("ingest/raw_spans_text.sql"))
    work.execute("BEGIN")


def _append(work: duckdb.DuckDBPyConnection, rows: pa.Table) -> None:
    """The parsed rows into raw_spans (read by DuckDB's scan of the Arrow table, not copied in Python), as a
    stream that lets go of each batch once read: inside `_begin_part`'s transaction a registered table would
    be kept until the commit."""
    work.register("onepass_rows", pa.RecordBatchReader.from_batches(rows.schema, iter(rows.to_batches())))
    try:
        work.execute("INSERT INTO raw_spans SELECT * FROM onepass_rows")
    finally:
        work.unregister("onepass_rows")
