"""Many small files loaded as one: parsed, normalized and derived in one statement each, committed in one
transaction with a loaded_files row per file.

Planning the parse and mapping statements costs far more than running them on a file of a few spans, so
a folder of small files (a collector rotating every minute) is loaded a group at a time. Each file stays
all or nothing: the group commits together or not at all, and a group holding any bad record is not
loaded as a group: the loader then loads its files one at a time, so that the bad one names itself (or,
with skip-invalid, counts what it left out) exactly as before.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from halo_local.ingest.lines import LinePosition
from halo_local.ingest.normalize import derive_trace_columns, insert_normalized
from halo_local.ingest.readers import read_file_group, work_settings
from halo_local.ingest.scratch import reused_database
from halo_local.resources import sql_text
from halo_local.store import Store

GROUP_FILE_BYTES = 1 << 20
"""A file up to this size may be loaded in a group; a larger one costs more to read than to plan."""
GROUP_MAX_FILES = 2_000
GROUP_MAX_BYTES = 64 << 20


@dataclass(frozen=True)
class FreshFile:
    """A small file not loaded before (nor its content, anywhere), of a known format."""

    path: Path
    resolved: str
    stat: os.stat_result
    sha256: str
    format: str


@dataclass(frozen=True)
class Recorded:
    """The loaded_files row of one loaded file and the traces it holds."""

    resolved: str
    sha256: str
    stat: os.stat_result
    format: str
    spans_read: int
    spans_new: int
    skipped: int
    complete: LinePosition | None
    complete_sha256: str | None
    trace_ids: list[str]
    previous_sha256: str | None = None


@dataclass(frozen=True)
class GroupedLoad:
    """What loading one file of a group did."""

    spans_read: int
    spans_new: int


def file_sha256(path: Path, prefix_bytes: int | None = None) -> tuple[str, str | None]:
    """The file's SHA-256 and, in the same pass, that of its first `prefix_bytes` bytes."""
    digest = hashlib.sha256()
    prefix = None
    done = 0
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            if prefix_bytes is not None and prefix is None and done + len(block) >= prefix_bytes:
                digest.update(block[: prefix_bytes - done])
                prefix = digest.hexdigest()
                digest.update(block[prefix_bytes - done:])
            else:
                digest.update(block)
            done += len(block)
    if prefix_bytes is not None and prefix is None:
        prefix = digest.hexdigest() if done == prefix_bytes else None
    return digest.hexdigest(), prefix


def record_file(connection: duckdb.DuckDBPyConnection, recorded: Recorded) -> None:
    """Insert the file's loaded_files row and the traces it holds (loaded_file_traces)."""
    complete = recorded.complete
    connection.execute(sql_text("ingest/record_file.sql"), {
        "path": recorded.resolved, "sha256": recorded.sha256, "size_bytes": recorded.stat.st_size,
        "mtime_ns": recorded.stat.st_mtime_ns, "format": recorded.format, "spans_read": recorded.spans_read,
        "spans_new": recorded.spans_new, "skipped": recorded.skipped,
        "complete_bytes": complete.offset if complete else None, "complete_sha256": recorded.complete_sha256,
        "line_count": complete.lines if complete else None})
    connection.execute(sql_text("ingest/file_traces.sql"), {
        "path": recorded.resolved, "sha256": recorded.sha256, "previous": recorded.previous_sha256,
        "trace_ids": recorded.trace_ids})


def load_group(store: Store, files: Sequence[FreshFile]) -> list[GroupedLoad] | None:
    """Load `files` (one format) in one transaction; None, with nothing stored, when any holds a bad record."""
    with store.transaction() as connection:
        with reused_database(work_settings(connection)) as work:
            read = read_file_group(work, [file.path for file in files], files[0].format)
            if read is None:
                return None
            part = insert_normalized(connection, source_files=[file.resolved for file in files], scratch=work)
        derive_trace_columns(connection, part.underived_trace_ids)
        completes = read.resume_at
        spans_new = [part.spans_new_by_file.get(index, 0) for index in range(len(files))]
        record = {
            "paths": [file.resolved for file in files], "hashes": [file.sha256 for file in files],
            "size_bytes": [file.stat.st_size for file in files], "mtime_ns": [file.stat.st_mtime_ns for file in files],
            "formats": [file.format for file in files], "spans_read": read.spans_read,
            "spans_new": spans_new,
            "complete_bytes": [complete.offset if complete else None for complete in completes],
            "complete_hashes": [_complete_sha256(file, complete) for file, complete in zip(files, completes, strict=True)],
            "line_counts": [complete.lines if complete else None for complete in completes],
        }
        connection.execute(sql_text("ingest/record_files.sql"), record)
        connection.execute(sql_text("ingest/group_traces.sql"), {
            "paths": record["paths"], "hashes": record["hashes"],
            "trace_ids": [part.held_by_file.get(index, []) for index in range(len(files))]})
        loads = [GroupedLoad(spans_read=spans_read, spans_new=new)
                 for spans_read, new in zip(read.spans_read, spans_new, strict=True)]
    return loads


def _complete_sha256(file: FreshFile, complete: LinePosition | None) -> str | None:
    """The SHA-256 of the file's complete lines, which a later load checks before resuming after them."""
    if complete is None:
        return None
    return file.sha256 if complete.offset == file.stat.st_size else file_sha256(file.path, complete.offset)[1]
