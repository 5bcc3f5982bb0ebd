"""`traces load`: many files, each loaded whole or not at all, idempotently.

A file whose path, size and modification time match a completed load is skipped without being
read; one whose content hash matches a loaded file (at this path or, for a copy, at another) is
skipped after hashing. Anything else is read into `raw_spans`, normalized, and committed in one
transaction together with its `loaded_files` row and the traces it holds (`loaded_file_traces`),
so an interrupted load leaves the database exactly as it was before that file.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from halo_local.errors import HaloLocalError, InvalidTraceFileError, NotTraceFileError
from halo_local.ingest.normalize import NormalizeResult, derive_trace_columns, insert_normalized
from halo_local.ingest.readers import LinePosition, SkippedRecord, expand_paths, named_files, read_trace_file
from halo_local.resources import sql_text
from halo_local.store import Store, environment_failure

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
        return {"paths": [str(item.path.resolve()) for item in stored],
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
                "start": _iso(self.first_start),
                "end": _iso(self.last_end),
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


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() + "Z" if value is not None else None


def _sha256(path: Path, prefix_bytes: int | None = None) -> tuple[str, str | None]:
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


def load_paths(
    store: Store,
    paths: Sequence[str | Path],
    *,
    format: str = "auto",
    skip_invalid: bool = False,
    progress: ProgressCallback | None = None,
) -> LoadSummary:
    """Load every trace file under `paths` into `store`; stops at the first invalid file.

    Files before the invalid one stay loaded (each is its own transaction), so fixing the file and
    re-running loads just the rest. A file that a directory or glob brought in and that is valid JSON
    but no trace export (labels, configs) is left alone as `not_traces`; named on its own, it is an error.
    """
    files = expand_paths(paths)
    named = named_files(paths)
    summary = LoadSummary()
    for index, path in enumerate(files, start=1):
        if progress is not None:
            progress(index, len(files), path)
        try:
            outcome = _load_one(store, path, format=format, skip_invalid=skip_invalid)
        except NotTraceFileError as error:
            if format != "auto" or path in named:
                raise
            outcome = FileLoad(path=path, format=None, status="not_traces", sha256="", reason=error.reason)
        except Exception as error:
            raise _naming_the_file(error, path, store) from error
        summary.files.append(outcome)
    _summarize_range(store, summary)
    return summary


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


def _load_one(store: Store, path: Path, *, format: str, skip_invalid: bool) -> FileLoad:
    resolved = str(path.resolve())
    stat = path.stat()
    # A strict load does not take the word of an earlier load that skipped bad records: it reads the
    # file again, so that its errors are reported.
    with store.transaction() as connection:
        known = connection.execute(
            "SELECT sha256, size_bytes, mtime_ns, format, complete_bytes, complete_sha256, line_count"
            " FROM loaded_files WHERE path = ? AND (skipped = 0 OR ?) ORDER BY loaded_at DESC LIMIT 1",
            [resolved, skip_invalid],
        ).fetchone()
        if known is not None and known[1] == stat.st_size and known[2] == stat.st_mtime_ns:
            return FileLoad(path=path, format=known[3], status="unchanged", sha256=known[0])
    # A file that grew past the complete lines of its last load, which are unchanged, is read from there.
    resume = None
    if known is not None and known[4] is not None and stat.st_size > known[4]:
        digest, prefix_digest = _sha256(path, prefix_bytes=known[4])
        if prefix_digest == known[5]:
            resume = _Resume(LinePosition(known[4], known[6]), previous_sha256=known[0], format=known[3])
    else:
        digest, _ = _sha256(path)
    with store.transaction() as connection:
        same_content = connection.execute(
            "SELECT path, format FROM loaded_files WHERE sha256 = ? AND (skipped = 0 OR ?)"
            " ORDER BY path = ? DESC, loaded_at DESC LIMIT 1",
            [digest, skip_invalid, resolved],
        ).fetchone()
        if same_content is not None:
            _remember_same_content(connection, resolved, digest, stat, loaded_as=same_content[0])
            return FileLoad(path=path, format=same_content[1], status="unchanged", sha256=digest)
        parts: list[NormalizeResult] = []
        read = read_trace_file(
            connection, path, format=resume.format if resume and format == "auto" else format,
            skip_invalid=skip_invalid, start=resume.start if resume else None,
            consume=lambda scratch: parts.append(insert_normalized(connection, source_file=resolved, scratch=scratch)),
        )
        spans_new = sum(part.spans_new for part in parts)
        derive_trace_columns(connection, sorted({trace_id for part in parts for trace_id in part.trace_ids}))
        complete = read.resume_at
        complete_sha256 = None
        if complete is not None:
            complete_sha256 = digest if complete.offset == stat.st_size else _sha256(path, complete.offset)[1]
        connection.execute(
            "INSERT INTO loaded_files (path, sha256, size_bytes, mtime_ns, format, spans_read, spans_new, skipped,"
            " complete_bytes, complete_sha256, line_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [resolved, digest, stat.st_size, stat.st_mtime_ns, read.format, read.spans_read, spans_new, read.skipped,
             complete.offset if complete else None, complete_sha256, complete.lines if complete else None],
        )
        held_trace_ids = (pa.concat_tables([part.held_trace_ids for part in parts]) if parts
                          else pa.table({"trace_id": pa.array([], pa.string())}))
        connection.execute(sql_text("ingest/file_traces.sql"), {
            "path": resolved, "sha256": digest, "previous": resume.previous_sha256 if resume else None})
        del held_trace_ids
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
        row = connection.execute(sql_text("ingest/load_summary.sql"), summary.file_keys()).fetchone()
    summary.traces, summary.agents, summary.first_start, summary.last_end = row
