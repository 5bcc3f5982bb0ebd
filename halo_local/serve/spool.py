"""The receiver's durable queue: append-only segment files under `$HALO_HOME/receiver/spool/`.

A request is acknowledged only once its record is written and fsynced, so `kill -9` loses nothing
acknowledged. Segments use the Collector file exporter's framing (a 4-byte big-endian length, then
the record: an OTLP protobuf message or an OTLP/JSON document), so the ordinary file loader reads
them. The ingester rotates the current segment, loads the closed ones in order and deletes each once
its load has committed. Progress therefore lives in two places that agree after any crash: a segment
still present is loaded again (the loader recognises it, and never stores a span identity twice), and
a torn record at the end of the segment being written when the process died (never acknowledged) is
cut off when the spool is opened again.
"""

from __future__ import annotations

import os
import struct
import threading
import time
from pathlib import Path

SEGMENT_SUFFIX = ".binpb"
_LENGTH = struct.Struct(">I")


class Spool:
    """Appends records durably and hands closed segments to the ingester; safe across threads."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self._write_lock = threading.Lock()
        self._sync_lock = threading.Lock()
        self._sequence = 0
        self._written = 0  # records appended (to any segment) ...
        self._synced = 0  # ... and how many of them are known to be on disk
        self.backlog_bytes = 0
        for segment in self._segments():
            kept = _cut_torn_tail(segment)
            if kept:
                self.backlog_bytes += kept
            else:
                segment.unlink()
        self._current_path = self._new_segment_path()
        self._current = self._current_path.open("ab")
        self._current_bytes = 0
        _fsync_folder(folder)

    def _segments(self) -> list[Path]:
        return sorted(self.folder.glob(f"segment-*{SEGMENT_SUFFIX}"))

    def _new_segment_path(self) -> Path:
        """Names sort in creation order and never repeat one the loader has recorded before."""
        self._sequence += 1
        return self.folder / f"segment-{time.time_ns():020d}-{self._sequence:06d}{SEGMENT_SUFFIX}"

    def append(self, record: bytes) -> None:
        """Write one record and return once it is on disk. Concurrent appends share one fsync."""
        framed = _LENGTH.pack(len(record)) + record
        with self._write_lock:
            self._current.write(framed)
            self._current.flush()
            self._written += 1
            mine = self._written
            self._current_bytes += len(framed)
            self.backlog_bytes += len(framed)
        with self._sync_lock:
            if self._synced >= mine:  # another append's fsync, or a rotation, covered this record
                return
            with self._write_lock:
                target = self._written
                descriptor = self._current.fileno()
            os.fsync(descriptor)
            self._synced = target

    def rotate(self) -> None:
        """Close the current segment (when it holds anything) so that the ingester can load it."""
        with self._sync_lock, self._write_lock:
            if not self._current_bytes:
                return
            self._current.flush()
            os.fsync(self._current.fileno())
            self._current.close()
            self._synced = self._written
            self._current_path = self._new_segment_path()
            self._current = self._current_path.open("ab")
            self._current_bytes = 0
        _fsync_folder(self.folder)

    def closed_segments(self) -> list[Path]:
        """Segments no longer written to, oldest first."""
        with self._write_lock:
            current = self._current_path
        return [segment for segment in self._segments() if segment != current]

    def release(self, segment: Path) -> None:
        """Delete a segment whose spans are stored."""
        size = segment.stat().st_size
        segment.unlink()
        with self._write_lock:
            self.backlog_bytes -= size

    def set_aside(self, segment: Path, folder: Path) -> None:
        """Move a segment the loader refuses (never expected: bodies are checked) out of the queue."""
        size = segment.stat().st_size
        folder.mkdir(parents=True, exist_ok=True)
        segment.rename(folder / segment.name)
        with self._write_lock:
            self.backlog_bytes -= size

    def close(self) -> None:
        """Flush the current segment; an empty one is removed."""
        with self._sync_lock, self._write_lock:
            self._current.flush()
            os.fsync(self._current.fileno())
            self._current.close()
            if not self._current_bytes:
                self._current_path.unlink(missing_ok=True)


def _cut_torn_tail(segment: Path) -> int:
    """Truncate a segment after its last complete record (a crash mid-append leaves part of one, which
    was never acknowledged); returns the size kept."""
    kept = 0
    size = segment.stat().st_size
    with segment.open("rb") as handle:
        while kept + 4 <= size:
            handle.seek(kept)
            (length,) = _LENGTH.unpack(handle.read(4))
            if kept + 4 + length > size:
                break
            kept += 4 + length
    if kept != size:
        with segment.open("r+b") as handle:
            handle.truncate(kept)
            os.fsync(handle.fileno())
    return kept


def _fsync_folder(folder: Path) -> None:
    """Make a segment's creation durable, not only its bytes."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
