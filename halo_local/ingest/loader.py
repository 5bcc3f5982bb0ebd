"""`traces load`: many files, each loaded whole or not at all, idempotently.

A file whose path, size and modification time match a completed load is skipped without being
read; one whose content hash matches a loaded file (at this path or, for a copy, at another) is
skipped after hashing. Anything else is read into `raw_spans`, normalized, and committed in one
transaction together with its `loaded_files` row and the traces it holds (`loaded_file_traces`),
so an interrupted load leaves the database exactly as it was before that file. Small fresh files are
loaded a group at a time (`groups`): one transaction for the group, still each file whole or not at all.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from halo_local.common.timestamps import iso
from halo_local.errors import HaloLocalError, InvalidTraceFileError, NotTraceFileError
from halo_local.ingest import onepass
from halo_local.ingest.groups import (
    GROUP_FILE_BYTES,
    GROUP_MAX_BYTES,
    GROUP_MAX_FILES,
    FreshFile,
    Recorded,
    file_sha256,
    load_group,
    record_file,
)
from halo_local.ingest.lines import LinePosition
from halo_local.ingest.normalize import NormalizeResult, derive_trace_columns, insert_normalized
from halo_local.ingest.readers import (
    SUPPORTED_FORMATS,
    SkippedRecord,
    detect_format,
    expand_paths,
    named_files,
    read_trace_file,
)
from halo_local.ingest.scratch import SharedDatabases
from halo_local.ingest.store_writer import StoreWriter
from halo_local.resources import sql_text
from halo_local.store import Store, environment_failure, within_transaction

ProgressCallback = Callable[[int, int, Path], None]


@dataclass(frozen=True)
class FileLoad:
    """What happened to one file."""

    path: Path
    format: str | None
    status: str  # loaded | unchanged | not_traces (found in a directory or glob, holds no trace data)
    sha256: str  # with the resolved path, the key of its loaded_files and loaded_file_traces rows
    spans_read: int = 0
    spans_new: int = 0
    duplicates: int = 0
    skipped: int = 0
    first_skipped: tuple[SkippedRecord, ...] = ()
    reason: str | None = None  # why a not_traces file was left alone
    first_line: int = 1  # where reading began: after the lines an earlier load read, when the file grew


@dataclass(frozen=True)
class _Resume:
    """Where a grown file's earlier load left off, and what that load recorded."""

    start: LinePosition
    previous_sha256: str
    format: str


def describe_skipped(entry: dict[str, Any]) -> str:
    """`left out 2 records of PATH: first at line 3: REASON` for one `skipped_records` entry."""
    count = entry["records"]
    text = f"left out {count} record{'s' if count != 1 else ''} of {entry['path']}"
    if entry["firstLine"] is not None:
        text += f": first at line {entry['firstLine']}: {entry['reason']}"
    return text


@dataclass
class LoadSummary:
    """Totals for one `traces load` call; `to_json` is its `--json` document."""

    files: list[FileLoad] = field(default_factory=list)
    traces: int = 0
    agents: int = 0
    first_start: datetime | None = None
    last_end: datetime | None = None

    @property
    def spans_new(self) -> int:
        return sum(item.spans_new for item in self.files)

    @property
    def duplicates(self) -> int:
        return sum(item.duplicates for item in self.files)

    @property
    def skipped(self) -> int:
        return sum(item.skipped for item in self.files)

    def skipped_records(self) -> list[dict[str, Any]]:
        """One entry per file whose bad records skip-invalid loading left out (path, records, firstLine,
        reason), so that commands which load as a side step can still name what they left out."""
        return [
            {"path": str(item.path), "records": item.skipped,
             "firstLine": item.first_skipped[0].line if item.first_skipped else None,
             "reason": item.first_skipped[0].reason if item.first_skipped else None}
            for item in self.files if item.skipped
        ]

    def file_keys(self) -> dict[str, list[str]]:
        """The files' loaded_files keys as the parameters $paths and $hashes (paired by position) of the
        queries that find the traces these files hold through loaded_file_traces."""
        stored = [item for item in self.files if item.status != "not_traces"]
        return {"paths": [str(item.path) for item in stored],  # resolved by expand_paths
                "hashes": [item.sha256 for item in stored]}

    def to_json(self) -> dict[str, Any]:
        return {
            "files": len(self.files),
            "filesLoaded": sum(1 for item in self.files if item.status == "loaded"),
            "filesUnchanged": sum(1 for item in self.files if item.status == "unchanged"),
            "filesNotTraces": sum(1 for item in self.files if item.status == "not_traces"),
            "spansNew": self.spans_new,
            "duplicates": self.duplicates,
            "skipped": self.skipped,
            "traces": self.traces,
            "agents": self.agents,
            "timeRange": {
                "start": iso(self.first_start),
                "end": iso(self.last_end),
            },
            "details": [
                {
                    "path": str(item.path),
                    "format": item.format,
                    "status": item.status,
                    "spansRead": item.spans_read,
                    "spansNew": item.spans_new,
                    "duplicates": item.duplicates,
                    "skipped": item.skipped,
                    "firstSkipped": [{"line": s.line, "reason": s.reason} for s in item.first_skipped],
                    "reason": item.reason,
                    "readFromLine": item.first_line,
                }
                for item in self.files
            ],
        }


def load_paths(
    store: Store,
    paths: Sequence[str | Path],
    *,
    format: str = "auto",
    skip_invalid: bool = False,
    progress: ProgressCallback | None = None,
) -> LoadSummary:
    """Load every trace file under `paths` into `store`; stops at the first invalid file.

    Files before the invalid one stay loaded (each is its own transaction, or shares one with the small
    files of its group, `groups`), so fixing the file and re-running loads just the rest. A file that a directory or glob brought in and that is valid JSON
    but no trace export (labels, configs) is left alone as `not_traces`; named on its own, it is an error.
    """
    files = expand_paths(paths)
    named = named_files(paths)
    summary = LoadSummary()
    shared = SharedDatabases()  # the one-pass loads' private databases, opened once for every file
    try:
        _load_files(store, files, named, summary, shared, format=format, skip_invalid=skip_invalid, progress=progress)
    finally:
        shared.close()
    _summarize_range(store, summary)
    return summary


def _load_files(store: Store, files: list[Path], named: set[Path], summary: LoadSummary,
                shared: SharedDatabases, *, format: str, skip_invalid: bool,
                progress: ProgressCallback | None) -> None:
    """load_paths' walk over `files`: small fresh ones gathered into groups, the others loaded alone."""
    pending = _Pending()
    grouped_contents: set[str] = set()
    for first in range(0, len(files), GROUP_MAX_FILES):
        chunk = files[first:first + GROUP_MAX_FILES]
        entries: list[FileLoad | FreshFile | None] = [None]  # a file alone needs no look-ahead
        if len(chunk) > 1:
            with store.connect() as checking:
                entries = _groupable(checking, chunk, format=format, skip_invalid=skip_invalid, seen=grouped_contents)
        for index, (path, entry) in enumerate(zip(chunk, entries, strict=True), start=first + 1):
            if progress is not None:
                progress(index, len(files), path)
            if isinstance(entry, FreshFile) and pending.full_for(entry):
                _load_pending(store, pending, summary, format=format, skip_invalid=skip_invalid, named=named, shared=shared)
            if entry is not None:
                pending.add(entry)
                continue
            _load_pending(store, pending, summary, format=format, skip_invalid=skip_invalid, named=named, shared=shared)
            summary.files.append(_load_alone(store, path, format=format, skip_invalid=skip_invalid, named=named,
                                             shared=shared))
    _load_pending(store, pending, summary, format=format, skip_invalid=skip_invalid, named=named, shared=shared)


def _load_alone(store: Store, path: Path, *, format: str, skip_invalid: bool, named: set[Path],
                shared: SharedDatabases | None = None) -> FileLoad:
    """Load one file in its own transaction; a file with no trace data that a directory brought in is
    `not_traces`, any other failure ends the load, naming the file."""
    try:
        return _load_one(store, path, format=format, skip_invalid=skip_invalid, shared=shared)
    except NotTraceFileError as error:
        if format != "auto" or path in named:
            raise
        return FileLoad(path=path, format=None, status="not_traces", sha256="", reason=error.reason)
    except Exception as error:
        raise _naming_the_file(error, path, store) from error


def _known(connection: duckdb.DuckDBPyConnection, resolved: str, skip_invalid: bool) -> tuple[Any, ...] | None:
    rows = connection.execute(sql_text("ingest/known_file.sql"), {"path": resolved, "skip_invalid": skip_invalid})
    return next(iter(rows.fetchall()), None)


def _same_content(connection: duckdb.DuckDBPyConnection, resolved: str, digest: str,
                  skip_invalid: bool) -> tuple[Any, ...] | None:
    rows = connection.execute(sql_text("ingest/same_content.sql"),
                              {"path": resolved, "sha256": digest, "skip_invalid": skip_invalid})
    return next(iter(rows.fetchall()), None)


def _groupable(connection: duckdb.DuckDBPyConnection, paths: Sequence[Path], *, format: str, skip_invalid: bool,
               seen: set[str]) -> list[FileLoad | FreshFile | None]:
    """Per file: an unchanged file's outcome, or a small fresh file that may be loaded in a group, or None
    for a file to load alone (large, grown, a copy of content loaded before or earlier in this load,
    unreadable, of no or an unknown format). Looked up for all `paths` in two statements; `seen` gathers
    the contents found fresh, so that a later copy is left to the checks of a load alone."""
    if format != "auto" and format not in SUPPORTED_FORMATS:
        return [None] * len(paths)
    resolved = [str(path) for path in paths]  # expand_paths resolved them (resolving again cost ~0.2 ms a file)
    known = {row[0]: row[1:] for row in connection.execute(
        sql_text("ingest/known_files.sql"), {"paths": resolved, "skip_invalid": skip_invalid}).fetchall()}
    entries: list[FileLoad | FreshFile | None] = []
    digests: dict[int, tuple[os.stat_result, str]] = {}
    for index, path in enumerate(paths):
        entries.append(None)
        try:
            stat = path.stat()
            before = known.get(resolved[index])
            if before is not None and before[1] == stat.st_size and before[2] == stat.st_mtime_ns:
                entries[index] = FileLoad(path=path, format=before[3], status="unchanged", sha256=before[0])
            elif before is None and stat.st_size <= GROUP_FILE_BYTES:
                digests[index] = (stat, file_sha256(path)[0])
        except OSError:
            continue
    loaded = {row[0] for row in connection.execute(sql_text("ingest/loaded_contents.sql"), {
        "hashes": [digest for _, digest in digests.values()], "skip_invalid": skip_invalid}).fetchall()}
    for index, (stat, digest) in digests.items():
        if digest in loaded or digest in seen:
            continue
        try:
            chosen = detect_format(paths[index]) if format == "auto" else format
        except Exception:
            continue
        seen.add(digest)
        entries[index] = FreshFile(path=paths[index], resolved=resolved[index], stat=stat, sha256=digest, format=chosen)
    return entries


@dataclass
class _Pending:
    """The outcomes and fresh files waiting for the next group, with the group's running size: asked for
    every file, a recount made grouping quadratic (2M steps for a group of 2,000)."""

    entries: list[FileLoad | FreshFile] = field(default_factory=list)
    files: int = 0
    size: int = 0
    format: str | None = None

    def add(self, entry: FileLoad | FreshFile) -> None:
        self.entries.append(entry)
        if isinstance(entry, FreshFile):
            self.format = self.format or entry.format
            self.files += 1
            self.size += entry.stat.st_size

    def full_for(self, entry: FreshFile) -> bool:
        """Whether `entry` must start a new group: another format, or the group is full."""
        return self.files > 0 and (
            self.format != entry.format or self.files >= GROUP_MAX_FILES or self.size >= GROUP_MAX_BYTES)

    def clear(self) -> None:
        self.entries.clear()
        self.files = self.size = 0
        self.format = None


def _load_pending(store: Store, pending: _Pending, summary: LoadSummary, *, format: str,
                  skip_invalid: bool, named: set[Path], shared: SharedDatabases) -> None:
    """Load the pending fresh files as one group and add every pending outcome to `summary`, in order.

    A group of one, or one holding a bad record, is loaded a file at a time instead (as a failure of
    the group's transaction is: it stored nothing), so that errors name their file as ever."""
    group = [item for item in pending.entries if isinstance(item, FreshFile)]
    loads = None
    if len(group) > 1:
        try:
            loads = load_group(store, group)
        except Exception:
            loads = None
    grouped = dict(zip((item.path for item in group), loads or [], strict=False))
    for item in pending.entries:
        if isinstance(item, FileLoad):
            summary.files.append(item)
        elif item.path in grouped:
            done = grouped[item.path]
            summary.files.append(FileLoad(
                path=item.path, format=item.format, status="loaded", sha256=item.sha256,
                spans_read=done.spans_read, spans_new=done.spans_new,
                duplicates=done.spans_read - done.spans_new))
        else:
            summary.files.append(_load_alone(store, item.path, format=format, skip_invalid=skip_invalid, named=named,
                                             shared=shared))
    pending.clear()


def _naming_the_file(error: Exception, path: Path, store: Store) -> Exception:
    """The error a failed load of `path` ends with, saying which file it was loading: trace file errors
    name it already; a named environment failure gets it put first; anything else gets it as a note."""
    if isinstance(error, InvalidTraceFileError) or (isinstance(error, HaloLocalError) and str(path) in error.message):
        return error
    named = environment_failure(error, store.db_path)
    if named is not None:
        return named.during(f"while loading {path}")
    if isinstance(error, HaloLocalError):
        return type(error)(f"while loading {path}: {error.message}", error.hint)
    error.add_note(f"while loading {path}")
    return error


def _load_one(store: Store, path: Path, *, format: str, skip_invalid: bool,
              shared: SharedDatabases | None = None) -> FileLoad:
    with store.connect() as connection:
        return _load_one_on(connection, path, format=format, skip_invalid=skip_invalid, shared=shared)


def _load_one_on(connection: duckdb.DuckDBPyConnection, path: Path, *, format: str, skip_invalid: bool,
                 shared: SharedDatabases | None = None) -> FileLoad:
    """_load_one on one open connection: the look-up, then the load in its own transaction."""
    resolved = str(path.resolve())
    stat = path.stat()
    # A strict load does not take the word of an earlier load that skipped bad records: it reads the
    # file again, so that its errors are reported.
    known = _known(connection, resolved, skip_invalid)
    if known is not None and known[1] == stat.st_size and known[2] == stat.st_mtime_ns:
        return FileLoad(path=path, format=known[3], status="unchanged", sha256=known[0])
    # A file that grew past the complete lines of its last load, which are unchanged, is read from there.
    resume = None
    hashing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="halo-file-hash")
    if known is not None and known[4] is not None and stat.st_size > known[4]:
        digest, prefix_digest = file_sha256(path, prefix_bytes=known[4])
        if prefix_digest == known[5]:
            resume = _Resume(LinePosition(known[4], known[6]), previous_sha256=known[0], format=known[3])
        hashed: Future[tuple[str, str | None]] = Future()
        hashed.set_result((digest, prefix_digest))
    else:
        hashed = hashing.submit(file_sha256, path)  # hashlib lets go of the GIL: it overlaps the parse
    try:
        with within_transaction(connection):
            return _load_read(connection, path, resolved, stat, hashed, resume, format=format,
                              skip_invalid=skip_invalid, shared=shared)
    finally:
        hashing.shutdown(wait=True)


class _SameContent(Exception):
    """The file's content was loaded before (found once its hash is known): stop reading it."""

    def __init__(self, loaded_as: str, format: str) -> None:
        super().__init__(loaded_as)
        self.loaded_as, self.format = loaded_as, format


def _load_read(connection: duckdb.DuckDBPyConnection, path: Path, resolved: str, stat: os.stat_result,
               hashed: Future[tuple[str, str | None]], resume: _Resume | None, *, format: str, skip_invalid: bool,
               shared: SharedDatabases | None) -> FileLoad:
    """_load_one_on inside its transaction: read and store the file, unless its content (`hashed`, being
    computed on a thread while the reading starts) was loaded before, which is checked before anything
    of it is stored."""
    parts: list[NormalizeResult] = []
    big = onepass.applies(stat.st_size)  # a big file is parsed on a second thread, chunk by chunk
    chosen_format = resume.format if resume and format == "auto" else format
    start = resume.start if resume else None
    checked: list[str] = []  # the digest, once checked against the loaded contents

    def digest_of_new_content() -> str:
        if not checked:
            digest = hashed.result()[0]
            same_content = _same_content(connection, resolved, digest, skip_invalid)
            if same_content is not None:
                raise _SameContent(*same_content[:2])
            checked.append(digest)
        return checked[0]

    writers: list[StoreWriter] = []  # a big file's: its parts are stored on a thread of their own

    def consume(scratch: duckdb.DuckDBPyConnection) -> None:
        digest_of_new_content()
        parts.append(insert_normalized(connection, source_files=[resolved], scratch=scratch, present_keys_only=big,
                                       writer=writers[0] if writers else None))
    try:
        if big:
            with StoreWriter(connection) as writer:
                writers.append(writer)
                read = onepass.read_big_file(connection, path, format=chosen_format, skip_invalid=skip_invalid,
                                             start=start, consume=consume, shared=shared)
                writer.wait()
        else:
            read = read_trace_file(connection, path, format=chosen_format, skip_invalid=skip_invalid, start=start,
                                   consume=consume)
        digest = digest_of_new_content()
    except _SameContent as same:
        digest = hashed.result()[0]
        _remember_same_content(connection, resolved, digest, stat, loaded_as=same.loaded_as)
        connection.execute("DROP TABLE IF EXISTS raw_spans")
        return FileLoad(path=path, format=same.format, status="unchanged", sha256=digest)
    spans_new = sum(part.spans_new for part in parts)
    derive_trace_columns(connection, sorted({trace_id for part in parts for trace_id in part.underived_trace_ids}))
    complete = read.resume_at
    complete_sha256 = None
    if complete is not None:
        complete_sha256 = digest if complete.offset == stat.st_size else file_sha256(path, complete.offset)[1]
    record_file(connection, Recorded(
        resolved=resolved, sha256=digest, stat=stat, format=read.format, spans_read=read.spans_read,
        spans_new=spans_new, skipped=read.skipped, complete=complete, complete_sha256=complete_sha256,
        trace_ids=sorted({trace_id for part in parts for trace_id in part.held_by_file.get(0, [])}),
        previous_sha256=resume.previous_sha256 if resume else None))
    connection.execute("DROP TABLE IF EXISTS raw_spans")
    return FileLoad(
        path=path,
        format=read.format,
        status="loaded",
        sha256=digest,
        spans_read=read.spans_read,
        spans_new=spans_new,
        duplicates=sum(part.duplicates for part in parts),
        skipped=read.skipped,
        first_skipped=tuple(read.first_skipped),
        first_line=resume.start.lines + 1 if resume else 1,
    )


def _remember_same_content(connection: duckdb.DuckDBPyConnection, resolved: str, digest: str,
                           stat: os.stat_result, *, loaded_as: str) -> None:
    """Record a file whose content was loaded before, at `loaded_as`, without reading it.

    At the same path only its size and mtime changed. A copy at another path gets its own loaded_files
    row (nothing new stored: spans_new 0) and the traces of the original, so the next load of the copy
    costs a stat and its summary covers the same traces.
    """
    if loaded_as == resolved:
        connection.execute(
            "UPDATE loaded_files SET size_bytes = ?, mtime_ns = ? WHERE path = ? AND sha256 = ?",
            [stat.st_size, stat.st_mtime_ns, resolved, digest],
        )
        return
    connection.execute(
        "INSERT INTO loaded_files (path, sha256, size_bytes, mtime_ns, format, spans_read, spans_new, skipped)"
        " SELECT ?, sha256, ?, ?, format, spans_read, 0, skipped FROM loaded_files WHERE path = ? AND sha256 = ?",
        [resolved, stat.st_size, stat.st_mtime_ns, loaded_as, digest],
    )
    connection.execute(
        "INSERT INTO loaded_file_traces (path, sha256, trace_id)"
        " SELECT ?, sha256, trace_id FROM loaded_file_traces WHERE path = ? AND sha256 = ?",
        [resolved, loaded_as, digest],
    )


def _summarize_range(store: Store, summary: LoadSummary) -> None:
    """Traces, agents and time range of the traces the loaded files hold, whether their spans were new or
    stored already from other files."""
    if not summary.files:
        return
    with store.connect() as connection:
        (row,) = connection.execute(sql_text("ingest/load_summary.sql"), summary.file_keys()).fetchall()
    summary.traces, summary.agents, summary.first_start, summary.last_end = row
