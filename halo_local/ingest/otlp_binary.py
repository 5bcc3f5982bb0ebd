"""Binary trace files → OTLP/JSON lines, so that they are read and normalized exactly like JSON exports.

Recognised by their first bytes, whatever their name:
- zstd (a whole file compressed with `zstd`, holding any format halo-local reads);
- the Collector file exporter's `format: proto` and any `compression: zstd` output: records, each a
  4-byte big-endian length and then that many bytes, a TracesData message or an OTLP/JSON document,
  either possibly a zstd frame of its own;
- one OTLP protobuf message (`.pb`, `.binpb`: an ExportTraceServiceRequest or TracesData, which share
  their wire form), e.g. a captured OTLP/HTTP request body.

Each message becomes one line of OTLP/JSON (hex ids, int64 as strings, enums as numbers), the form the
JSON reader takes, so a record's "line" in an error is its position in the file. This module only
recognises the forms; `otlp_decode` (protobuf and zstd, imported only when a file needs it, so that
commands reading text files do not load them) decodes.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from halo_local.ingest.limits import DecompressedStream

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_LENGTH_PREFIX = struct.Struct(">I")
SNIFF_BYTES = 4096
READ_CHUNK = 1 << 20
_TEXT_CONTROL_BYTES = frozenset(range(0x20)) - {0x09, 0x0A, 0x0D}


def sniff(head: bytes, total_size: int | None) -> str | None:
    """What binary form `head` (the first bytes of a file) opens, or None for text (JSON).

    "zstd", "records" (length-prefixed, the file exporter's) or "protobuf"; `total_size` (None when
    unknown, as inside a compressed stream) rules out a length prefix longer than the file.
    """
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    # A message opens with field 1 (0x0a); a record length opening with that byte would be over 160 MB.
    if head[:1] == b"\x0a" and _looks_binary(head):
        return "protobuf"
    if len(head) >= 5:
        (length,) = _LENGTH_PREFIX.unpack_from(head)
        first = head[4:5]
        # Text never opens with a NUL byte; a record of under 16 MiB does, also in a file cut short.
        fits = total_size is None or 4 + length <= total_size or head[0] == 0
        if length and fits and (first in (b"\x0a", b"{") or head[4:8] == ZSTD_MAGIC):
            return "records"
    return None


def _looks_binary(head: bytes) -> bool:
    """Text files (JSON) hold no control bytes but tab and newlines, and are UTF-8 (the last few bytes may
    be a character cut by the sniff)."""
    sample = head[:SNIFF_BYTES]
    if any(byte in _TEXT_CONTROL_BYTES for byte in sample):
        return True
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.start < len(sample) - 4
    return False


def decoded_stream(path: Path, stream: BinaryIO | DecompressedStream, size: int | None) -> BinaryIO:
    """`stream` as it is when it holds text; otherwise a stream of the OTLP/JSON lines it decodes to.

    `size` is the file's size for a seekable `stream` (the raw file), None for a decompressed one.
    """
    head = stream.read(SNIFF_BYTES)
    kind = sniff(head, size)
    source: Any = stream
    if size is not None and not isinstance(stream, DecompressedStream):
        stream.seek(0)
        if kind is None:
            return stream
    else:
        chunks = IterStream(prepend(head, stream))
        source = chunks
        if kind is None:
            return chunks.buffered
    from halo_local.ingest import otlp_decode  # protobuf and zstandard load only for binary files

    return io.BufferedReader(_ChunkStream(otlp_decode.json_lines(path, source, kind)), buffer_size=READ_CHUNK)


# --- Streams ---------------------------------------------------------------------------------------


def prepend(head: bytes, stream: Any) -> Iterator[bytes]:
    if head:
        yield head
    while chunk := stream.read(READ_CHUNK):
        yield chunk


class _ChunkStream(io.RawIOBase):
    """A readable raw stream over an iterator of byte chunks."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = memoryview(chunk)
        count = min(len(target), len(self._pending))
        target[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count


class IterStream:
    """The minimal `read(n)` over an iterator of chunks that decoding nested forms needs."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.buffered: BinaryIO = io.BufferedReader(_ChunkStream(chunks), buffer_size=READ_CHUNK)

    def read(self, size: int = -1) -> bytes:
        return self.buffered.read(size)
