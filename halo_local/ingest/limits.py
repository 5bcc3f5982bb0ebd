"""Bounds on what one trace file may cost to load, so that a hostile or careless file cannot exhaust the
machine: how far a compressed file may inflate, and how long an attribute value is stored.

The attribute cut itself happens in the readers' SQL (`halo_is_overlong` and friends in
sql/ingest/macros.sql); this module holds the settings and the decompression guard any compressed
reader wraps its stream in.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path
from typing import BinaryIO, Protocol

from halo_local.common.sizes import parse_size
from halo_local.errors import InvalidTraceFileError, UsageError

ATTRIBUTE_VALUE_LIMIT_ENV = "HALO_ATTRIBUTE_VALUE_LIMIT"
DEFAULT_ATTRIBUTE_VALUE_LIMIT = 64 * 1024
"""Attribute string values of more characters are stored cut, with their length and hash (macros.sql)."""
DECOMPRESSED_LIMIT_ENV = "HALO_MAX_DECOMPRESSED_BYTES"
DEFAULT_DECOMPRESSED_LIMIT = 1 << 30
"""A compressed file that inflates past this many bytes is refused whole: a small gzip can hold gigabytes."""
_COUNT_BYTES = 16 << 20


class ByteSource(Protocol):
    """What a decompressor offers to read from: `read(size)` (a GzipFile, a zstd stream reader)."""

    def read(self, size: int = -1, /) -> bytes: ...


class DecompressedStream:
    """A decompressing reader that refuses to inflate past `limit` bytes: its read() raises
    InvalidTraceFileError naming the file once the limit is passed, long before memory or disk run out.
    Not seekable: a compressed file is read from its start."""

    def __init__(self, inner: ByteSource, path: Path, limit: int) -> None:
        self._inner = inner
        self._path = path
        self._limit = limit
        self._read = 0

    def read(self, size: int = -1) -> bytes:
        wanted = self._limit + 1 - self._read if size < 0 else min(size, self._limit + 1 - self._read)
        data = self._inner.read(max(wanted, 1))
        self._read += len(data)
        if self._read > self._limit:
            raise too_large_when_decompressed(self._path, self._limit)
        return data


def too_large_when_decompressed(path: Path, limit: int) -> InvalidTraceFileError:
    """The error for a compressed file that inflates (or says it inflates) past `limit` bytes."""
    return InvalidTraceFileError(
        str(path),
        f"decompresses to more than {format_size(limit)} ({DECOMPRESSED_LIMIT_ENV}); nothing of it was loaded",
        hint=f"if the file is genuine, raise {DECOMPRESSED_LIMIT_ENV} (e.g. {DECOMPRESSED_LIMIT_ENV}=4GiB) "
             "or load it uncompressed",
    )


def gzip_size_field(handle: BinaryIO) -> int:
    """The inflated size a gzip file states in its last 4 bytes (modulo 4 GiB, of its last member only: a
    quick first check; DecompressedStream is what holds whatever the field says)."""
    if handle.seek(0, os.SEEK_END) < 4:
        handle.seek(0)
        return 0  # not even a trailer: GzipFile says what is wrong with it
    handle.seek(-4, os.SEEK_END)
    size = int.from_bytes(handle.read(4), "little")
    handle.seek(0)
    return size


def inflates_past(handle: BinaryIO, limit: int) -> bool:
    """Whether the gzip file open in `handle` really inflates past `limit` bytes: inflated and counted,
    nothing kept (about 2 s a GiB). Checks a size field that says so, since the last 4 bytes of a file an
    exporter is still writing are no size field at all; a file that ends early is not too large."""
    inflated = 0
    try:
        with gzip.GzipFile(fileobj=handle) as unzipped:
            while chunk := unzipped.read(_COUNT_BYTES):
                inflated += len(chunk)
                if inflated > limit:
                    return True
    except (gzip.BadGzipFile, EOFError, zlib.error):
        return False
    finally:
        handle.seek(0)
    return False


def format_size(size: int) -> str:
    """1073741824 → '1 GiB'; sizes that are no whole number of KiB/MiB/GiB in bytes."""
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size:,} bytes"


def size_setting(name: str, default: int) -> int:
    """A positive size from the environment variable `name` (`65536`, `64KiB`, `1GiB`, `2GB`: `parse_size`,
    a bare number is bytes), else `default`."""
    text = os.environ.get(name)
    if text is None or not text.strip():
        return default
    value = parse_size(text) or 0
    if value <= 0:
        raise UsageError(f"{name}={text!r} is not a size", hint=f"give a positive number, e.g. {name}=1GiB")
    return value
