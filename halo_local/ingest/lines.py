"""Trace file bytes → batches of whole lines, and the precise account of a bad record in one.

Python only moves bytes here: the file is streamed (gzip recognised by its magic bytes, decompressed up
to HALO_MAX_DECOMPRESSED_BYTES; OTLP protobuf and zstd decoded to OTLP/JSON lines by `otlp_binary`) and
cut into lines with Arrow. When DuckDB finds a bad record, `explain` reads that line again in Python to
say where in it, and why, as far as Python can tell.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.compute as pc

from halo_local.errors import HaloLocalError, InvalidTraceFileError
from halo_local.ingest import otlp_binary
from halo_local.ingest.limits import (
    DECOMPRESSED_LIMIT_ENV,
    DEFAULT_DECOMPRESSED_LIMIT,
    DecompressedStream,
    gzip_size_field,
    inflates_past,
    size_setting,
    too_large_when_decompressed,
)

BLOCK_BYTES = 16 << 20
"""How much of the file is read at a time; a batch is that many bytes of whole lines (or one longer line)."""
SCAN_PIECES = 16
"""Record batches a batch of lines is handed to DuckDB in: it scans one per thread."""
_PEEK_BYTES = 1 << 20
_PEEK_LIMIT = 16 << 20
_GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"
OTLP_MARKER = re.compile(
    rb'"(?:resourceSpans|resource_spans|batches|scopeSpans|scope_spans|instrumentationLibrarySpans)"\s*:'
)
HALO_MARKER = re.compile(rb'"(?:trace_id|span_id|parent_span_id|start_time)"\s*:')


@dataclass(frozen=True)
class LinePosition:
    """A place in a JSON Lines file: after its first `lines` lines, which end at byte `offset`."""

    offset: int
    lines: int


@dataclass(frozen=True)
class Batch:
    """Consecutive lines of the file: `table` is (line_no, raw) for DuckDB."""

    first_line: int
    lines: pa.Array
    ends_file: bool
    ends_with_newline: bool
    whole_document: bool
    resume_at: LinePosition | None = None  # after this batch's lines; None where a read cannot resume
    joined: bytes | None = None  # the lines as the file has them, each with its newline, when they all have one

    @property
    def table(self) -> pa.Table:
        return line_table(line_numbers(self.first_line, len(self.lines)), self.lines)

    def resume_after(self, previous: LinePosition | None) -> LinePosition | None:
        """Where a later read may resume once this batch is read: after its lines when they end complete
        (with a newline, or the whole document), else still where it could before."""
        return self.resume_at if self.ends_with_newline or self.whole_document else previous

    def raw_line(self, line: int) -> bytes:
        index = 0 if self.whole_document else line - self.first_line
        raw: bytes = self.lines[index].as_py()
        return raw


def line_numbers(first: int, count: int) -> pa.Array:
    """The line_no column of `count` lines from `first` on."""
    return pa.array(range(first, first + count), pa.int64())


def line_table(numbers: pa.Array, lines: pa.Array) -> pa.Table:
    """(line_no, raw) for DuckDB in SCAN_PIECES record batches: it scans one record batch per thread."""
    table = pa.table({"line_no": numbers, "raw": lines})
    return pa.Table.from_batches(table.to_batches(max_chunksize=max(1, -(-table.num_rows // SCAN_PIECES))))


@contextmanager
def open_stream(path: Path) -> Iterator[BinaryIO]:
    """The file's bytes, decompressed (up to HALO_MAX_DECOMPRESSED_BYTES) when it starts with the gzip
    magic number; binary OTLP (protobuf, file-exporter records, zstd) as the OTLP/JSON lines it decodes to
    (`otlp_binary`)."""
    try:
        with path.open("rb") as handle:
            if handle.read(2) == _GZIP_MAGIC:
                limit = size_setting(DECOMPRESSED_LIMIT_ENV, DEFAULT_DECOMPRESSED_LIMIT)
                if gzip_size_field(handle) > limit and inflates_past(handle, limit):
                    raise too_large_when_decompressed(path, limit)
                with gzip.GzipFile(fileobj=handle) as unzipped:
                    yield otlp_binary.decoded_stream(path, DecompressedStream(unzipped, path, limit), None)
            else:
                handle.seek(0)
                yield otlp_binary.decoded_stream(path, handle, path.stat().st_size)
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:
        raise InvalidTraceFileError(str(path), f"is not a readable gzip file ({error})") from error
    except FileNotFoundError as error:
        raise HaloLocalError(f"no such file: {path}") from error
    except IsADirectoryError as error:
        raise HaloLocalError(f"{path} is a directory", hint="expand_paths turns directories into files") from error


def peek(path: Path, *, stop_at_marker: bool) -> bytes:
    """The first bytes of the (decompressed) file without a BOM: 1 MiB, or up to 16 MiB to find a format key."""
    with open_stream(path) as stream:
        head = stream.read(_PEEK_BYTES)
        while (
            stop_at_marker
            and len(head) < _PEEK_LIMIT
            and not (OTLP_MARKER.search(head) or HALO_MARKER.search(head))
        ):
            more = stream.read(_PEEK_BYTES)
            if not more:
                break
            head += more
    return head.removeprefix(UTF8_BOM)


def is_pretty_document(head: bytes) -> bool:
    """True when the file opens a JSON object or array whose first two lines are not JSON alone:
    one document printed over many lines."""
    lines = [line for line in head.split(b"\n", 64)[:64] if line.strip()]
    if len(lines) < 2 or not lines[0].lstrip().startswith((b"{", b"[")):
        return False
    return not is_json(lines[0]) and not is_json(lines[1])


def is_json(line: bytes) -> bool:
    """Whether `line` is JSON; nesting too deep for Python's parser counts as JSON (DuckDB reads it)."""
    try:
        json.loads(line)
    except ValueError:
        return False
    except RecursionError:
        return True
    return True


def line_batches(path: Path, start: LinePosition, block_bytes: int = BLOCK_BYTES) -> Iterator[Batch]:
    """The file from `start` on as batches of whole lines of about `block_bytes` (a longer line makes a
    longer batch), each saying where its lines end in the file's bytes (not in a gzip file's)."""
    whole_document = start.offset == 0 and is_pretty_document(peek(path, stop_at_marker=False))
    with open_stream(path) as stream:
        if whole_document:
            data = stream.read().removeprefix(UTF8_BOM)
            yield Batch(1, pa.array([data], pa.large_binary()), True, data.endswith(b"\n"), True)
            return
        seekable = isinstance(stream, io.BufferedReader) and stream.seekable()
        if start.offset:
            if not seekable:
                raise ValueError("a gzip file is read from its start")
            stream.seek(start.offset)
        offset = start.offset  # where `pending` starts in the file
        pending = b""
        next_line = start.lines + 1
        at_start = start.offset == 0
        while True:
            block = stream.read(block_bytes)
            if at_start:
                offset += len(block) - len(block.removeprefix(UTF8_BOM))
                block = block.removeprefix(UTF8_BOM)
                at_start = False
            if not block:
                break
            data = pending + block
            cut = data.rfind(b"\n")
            if cut < 0:
                pending = data
                continue
            pending = data[cut + 1 :]
            offset += cut + 1
            lines = pc.split_pattern(_binary_view(data, cut), pattern=b"\n").flatten()
            resume_at = LinePosition(offset, next_line + len(lines) - 1) if seekable else None
            yield Batch(next_line, lines, False, True, False, resume_at, data[: cut + 1])
            next_line += len(lines)
        if pending:
            yield Batch(next_line, pa.array([pending], pa.large_binary()), True, False, False)


def _binary_view(data: bytes, length: int) -> pa.Array:
    """The first `length` bytes of `data` as a one-value Arrow binary array, without copying them."""
    offsets = pa.array([0, length], pa.int64()).buffers()[1]
    return pa.LargeBinaryArray.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(data)])



# --- Bad records -----------------------------------------------------------------------------------


def invalid_record(path: Path, batch: Batch, line: int, reason: str) -> InvalidTraceFileError:
    located, explained = explain(batch, line, reason)
    return InvalidTraceFileError(
        str(path),
        explained,
        line=located,
        hint="fix or remove that record, or pass --skip-invalid to load the rest and count what was left out",
    )


def explain(batch: Batch, line: int, reason: str) -> tuple[int, str]:
    """Make a batch error precise from the raw bytes: where in the line, and why, as far as Python can tell.

    In a whole pretty-printed document everything is "line 1", so the line is found in the text instead.
    """
    raw = batch.raw_line(line)
    if reason == "is not valid UTF-8":
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as error:
            line_in_text, column = _position(raw, error.start)
            return _line_of(batch, line, line_in_text), (
                f"{reason}: byte 0x{raw[error.start]:02x} at column {column}"
            )
    if reason == "is not valid JSON":
        try:
            json.loads(raw)
        except json.JSONDecodeError as error:
            line_in_text, column = _position(raw, len(error.doc[: error.pos].encode("utf-8")))
            detail = f"{reason}: {error.msg} (column {column})"
            # A last record without its newline that is not JSON was cut short; inside a whole document only
            # an error at its very end (or an unterminated string) means that.
            cut_short = not batch.whole_document or error.pos >= len(error.doc.rstrip()) - 1 or (
                error.msg.startswith("Unterminated")
            )
            if cut_short and batch.ends_file and not batch.ends_with_newline and line == _last_line(batch):
                detail = "is truncated: the file ends in the middle of this record"
            return _line_of(batch, line, line_in_text), detail
        except (ValueError, RecursionError):
            pass
    if batch.whole_document:
        return _find_line(raw, reason), reason
    return line, reason


def _last_line(batch: Batch) -> int:
    return batch.first_line + len(batch.lines) - 1


def _position(raw: bytes, offset: int) -> tuple[int, int]:
    """1-based (line, column) of a byte offset in `raw`."""
    line = raw.count(b"\n", 0, offset) + 1
    column = offset - (raw.rfind(b"\n", 0, offset) + 1) + 1
    return line, column


def _line_of(batch: Batch, line: int, line_in_text: int) -> int:
    return line_in_text if batch.whole_document else line


_QUOTED_ID = re.compile(r"\(id ([^)]*)\)")
_QUOTED_KEY = re.compile(r'^"([A-Za-z_]+)" is not a list')


def _find_line(raw: bytes, reason: str) -> int:
    """The line of a whole document an error is about: where the span's id, or the bad key, is written."""
    patterns: list[bytes] = []
    if match := _QUOTED_ID.search(reason):
        patterns.append(b'"' + re.escape(match.group(1).encode()) + b'"')
    if match := _QUOTED_KEY.match(reason):
        patterns.append(b'"' + match.group(1).encode() + rb'"\s*:\s*[^\[\sn]')
    for pattern in patterns:
        if found := re.search(pattern, raw):
            return raw.count(b"\n", 0, found.start()) + 1
    return 1
