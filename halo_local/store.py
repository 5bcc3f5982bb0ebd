"""The local database: where it lives, how it is opened, and how its schema evolves.

DuckDB lets one process hold a database file at a time, and other processes cannot even open
it read-only meanwhile. So every command opens a short connection, does its work, and closes;
opening retries with backoff while another halo-local process holds the file, and long work
(analysis runs) happens on snapshots, never while holding the database.

A process keeps an in-memory DuckDB instance and ATTACHes the file to it for such connections,
DETACHing it (which checkpoints and lets go of the lock) once the last one closes (`_SharedInstances`):
creating an instance registers DuckDB's whole function catalog, ~22 ms of CPU, and closing a file's own
instance ~9 ms more, where attaching and detaching cost ~3 ms each, and a command or a run opens the file
a dozen times.
"""

from __future__ import annotations

import errno
import os
import random
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import duckdb
import platformdirs

from halo_local.errors import (
    DatabaseBusyError,
    DatabaseDamagedError,
    DiskFullError,
    EnvironmentFailure,
    HaloLocalError,
    MemoryExhaustedError,
    PermissionDeniedError,
)
from halo_local.resources import resource_dir, sql_text

DATABASE_FILE = "halo.duckdb"
LOCK_TIMEOUT_ENV = "HALO_LOCK_TIMEOUT"
MEMORY_LIMIT_ENV = "HALO_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "768MB"
WAIT_NOTICE_SECONDS = 2.0  # waiting for the lock longer than this is said on stderr, once
PRIVATE_BITS = 0o077  # group and others: nothing under $HALO_HOME is theirs to read
_MIGRATION_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")
_migrated: set[Path] = set()
_checked_privacy: set[Path] = set()
_wait_announced = False
_QUOTED_PATH = re.compile(r'"(/[^"]+)"')
_DAMAGE_SIGNS = {
    "not a valid DuckDB database file": "it is not a DuckDB database",
    "Could not read enough bytes": "it ends before its contents do: truncated",
    "Corrupt database file": "a block fails its checksum",
    "does not match stored checksum": "a block fails its checksum",
}


def default_home() -> Path:
    """`$HALO_HOME` if set, else the per-user data folder (e.g. ~/.local/share/halo-local)."""
    configured = os.environ.get("HALO_HOME")
    if configured:
        return Path(configured).expanduser().resolve()
    return Path(platformdirs.user_data_dir("halo-local", appauthor=False))


def _announce_once() -> None:
    """A command that waits for the lock more than once (each of its connections) says so only once."""
    global _wait_announced
    _wait_announced = True


def make_new_files_private() -> None:
    """From now on this process creates files 0600 and folders 0700: the database, its WAL and the run
    folders hold raw trace data, secrets included. Idempotent; DuckDB's own files follow the umask too."""
    os.umask(os.umask(PRIVATE_BITS) | PRIVATE_BITS)


def environment_failure(error: BaseException, database: Path) -> EnvironmentFailure | None:
    """The named failure (damaged database, disk full, permission denied, out of memory) that `error` is,
    with the path it concerns and the next step; None for anything else."""
    if isinstance(error, EnvironmentFailure):
        return error
    text = str(error)
    code = getattr(error, "errno", None)
    quoted = _QUOTED_PATH.search(text)
    named = getattr(error, "filename", None) or (quoted.group(1) if quoted else None) or str(database)
    if isinstance(error, (duckdb.OutOfMemoryException, MemoryError)) or "Out of Memory Error" in text:
        limit = os.environ.get(MEMORY_LIMIT_ENV, DEFAULT_MEMORY_LIMIT)
        return MemoryExhaustedError(
            f"out of memory ({MEMORY_LIMIT_ENV}={limit}) working on {database}: raise {MEMORY_LIMIT_ENV} "
            f"(e.g. {MEMORY_LIMIT_ENV}=4GB) or give the command less data at a time")
    if code in (errno.ENOSPC, errno.EDQUOT) or "No space left on device" in text or "Disk quota exceeded" in text:
        return DiskFullError(f"the disk holding {named} is full: free some space (or point HALO_HOME at a "
                             "bigger disk) and run the command again")
    if isinstance(error, PermissionError) or code in (errno.EACCES, errno.EPERM) or "Permission denied" in text:
        return PermissionDeniedError(f"permission denied on {named}: give your user read and write access "
                                     f"(chmod u+rw {named}) or point HALO_HOME at a folder you own")
    if isinstance(error, duckdb.Error):
        for sign, reason in _DAMAGE_SIGNS.items():
            if sign in text:
                return DatabaseDamagedError(f"the database file {named} is damaged ({reason}): move it aside "
                                            f"(mv {named} {named}.damaged) and load your traces again")
    return None


@dataclass
class _Instance:
    connection: duckdb.DuckDBPyConnection  # the in-memory instance's own connection
    temp_directory: str  # where it spills: instance-wide, and fixed once it has spilled
    memory_limit: str = ""
    users: int = 0  # connections of this process open on the file attached to it


class _SharedInstances:
    """For each database file in use by this process (one per $HALO_HOME), an in-memory DuckDB instance
    with the file attached as catalog `halo` while a connection is open on it. Detached, an instance is kept
    for the next file unless it spilled: closing it removes its spill files, as closing the file did."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._attached: dict[Path, _Instance] = {}
        self._idle: _Instance | None = None

    def open(self, path: Path, settings: dict[str, str]) -> duckdb.DuckDBPyConnection:
        """A connection whose default catalog is the file at `path`, attached first if no connection of
        this process has it open; raises what ATTACH raises (a lock held by another process included)."""
        with self._lock:
            instance = self._attached.get(path)
            if instance is None:
                instance = self._instance(settings["temp_directory"])
                try:
                    if instance.memory_limit != settings["memory_limit"]:
                        instance.connection.execute(f"SET memory_limit = '{_quoted(settings['memory_limit'])}'")
                        instance.memory_limit = settings["memory_limit"]
                    instance.connection.execute("ATTACH $path AS halo", {"path": str(path)})
                except BaseException:
                    self._keep_or_close(instance)
                    raise
                self._attached[path] = instance
            instance.users += 1
            connection = instance.connection.cursor()
        try:
            connection.execute("USE halo")
            return connection
        except BaseException:
            connection.close()
            self.release(path)
            raise

    def release(self, path: Path) -> None:
        """One connection on `path` closed; the last one detaches the file (checkpointing it)."""
        with self._lock:
            instance = self._attached[path]
            instance.users -= 1
            if instance.users:
                return
            del self._attached[path]
            try:
                instance.connection.execute("DETACH halo")
            except BaseException:
                with suppress(duckdb.Error):
                    instance.connection.close()
                raise
            self._keep_or_close(instance)

    def _instance(self, temp_directory: str) -> _Instance:
        idle, self._idle = self._idle, None
        if idle is not None and idle.temp_directory == temp_directory:
            return idle
        if idle is not None:
            idle.connection.close()
        config: dict[str, str | bool | int | float | list[str]] = {
            "temp_directory": temp_directory, "preserve_insertion_order": "false"}
        return _Instance(duckdb.connect(database=":memory:", config=config), temp_directory)

    def _keep_or_close(self, instance: _Instance) -> None:
        """Keep a detached instance for the next file, unless it spilled (DuckDB creates its spill folder
        when it first spills) or one is kept already."""
        if self._idle is None and not os.path.exists(instance.temp_directory):
            self._idle = instance
        else:
            instance.connection.close()


def _quoted(value: str) -> str:
    return value.replace("'", "''")


_shared = _SharedInstances()


def _is_lock_conflict(error: duckdb.Error) -> bool:
    text = str(error)
    return "lock" in text.lower() and ("Could not set lock" in text or "Conflicting lock" in text)


class Store:
    """Handle on one `$HALO_HOME`: its database file and the folders runs write into."""

    def __init__(self, home: Path | str | None = None) -> None:
        self.home = Path(home).expanduser().resolve() if home is not None else default_home()

    @property
    def db_path(self) -> Path:
        return self.home / DATABASE_FILE

    @property
    def runs_dir(self) -> Path:
        return self.home / "runs"

    def _open(self) -> duckdb.DuckDBPyConnection:
        """Connect, retrying while another process holds the file; says so on stderr once the wait is noticeable."""
        timeout = float(os.environ.get(LOCK_TIMEOUT_ENV, "60"))
        started = time.monotonic()
        deadline = started + timeout
        delay = 0.02
        while True:
            try:
                connection = _shared.open(self.db_path, self._settings())
                # DuckDB draws a progress bar on stdout once a query passes 2 s (on a loaded machine, any
                # load or analysis): it broke --json's one document and the report analyze prints.
                connection.execute("SET enable_progress_bar = false")
                return connection
            except duckdb.Error as error:
                if not _is_lock_conflict(error):
                    named = environment_failure(error, self.db_path)
                    if named is not None:
                        raise named from error
                    if isinstance(error, duckdb.IOException):
                        raise HaloLocalError(f"cannot open the database {self.db_path}: {error}",
                                             hint="it must be a halo-local database you can write to; "
                                                  "or point HALO_HOME at another folder") from error
                    raise
                if time.monotonic() >= deadline:
                    raise DatabaseBusyError(
                        f"the database {self.db_path} stayed busy for {timeout:.0f}s",
                        hint=f"another halo-local process is holding it; retry, or raise {LOCK_TIMEOUT_ENV}",
                    ) from error
                if not _wait_announced and time.monotonic() - started >= WAIT_NOTICE_SECONDS:
                    sys.stderr.write(f"Waiting for the database: another halo-local process is using it "
                                     f"({LOCK_TIMEOUT_ENV}={timeout:g}s) ...\n")
                    sys.stderr.flush()
                    _announce_once()
                time.sleep(delay + random.uniform(0, delay))
                delay = min(delay * 2, 0.5)

    def _settings(self) -> dict[str, str]:
        """Bound DuckDB's memory and let big loads spill under $HALO_HOME instead of growing.

        Without a limit DuckDB takes most of the machine for a large load (10 GB at 1M spans); with
        768MB a load of 1M spans peaks under 1 GB of RSS (HALO_MEMORY_LIMIT trades memory for speed).
        """
        return {
            "memory_limit": os.environ.get(MEMORY_LIMIT_ENV, DEFAULT_MEMORY_LIMIT),
            "temp_directory": str(self.home / "tmp"),
        }

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A short-lived connection with the schema up to date; closed on exit.

        A damaged database, a full disk, a refused permission or memory run out, met while it is open,
        leave as the named EnvironmentFailure rather than a raw DuckDB or OS error."""
        make_new_files_private()
        try:
            self.home.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            reason = "it is not a folder" if self.home.exists() else (error.strerror or str(error)).lower()
            hint = "point HALO_HOME at a folder you can write to, or unset it for the default"
            raise HaloLocalError(f"cannot use HALO_HOME {self.home}: {reason}", hint=hint) from error
        self._warn_if_readable_by_others()
        connection = self._open()
        try:
            if self.db_path not in _migrated:
                apply_migrations(connection)
                _migrated.add(self.db_path)
            yield connection
        except (duckdb.Error, OSError, MemoryError) as error:
            named = environment_failure(error, self.db_path)
            if named is None or isinstance(error, EnvironmentFailure):
                raise
            raise named from error
        finally:
            connection.close()
            self._release()

    def _release(self) -> None:
        try:
            _shared.release(self.db_path)
        except duckdb.Error as error:
            named = environment_failure(error, self.db_path)
            if named is None:
                raise
            raise named from error

    def _warn_if_readable_by_others(self) -> None:
        """Say on stderr, once per process, that an existing HALO_HOME or database is open to other users."""
        if self.home in _checked_privacy:
            return
        _checked_privacy.add(self.home)
        for path in (self.home, self.db_path):
            try:
                mode = path.stat().st_mode & 0o777
            except OSError:
                continue
            if mode & PRIVATE_BITS:
                sys.stderr.write(f"Warning: {path} can be read by other users (mode {mode:03o}) and holds raw trace "
                                 f"data, secrets included: chmod -R go-rwx {self.home}\n")
                sys.stderr.flush()
                return

    @contextmanager
    def held_open(self) -> Iterator[None]:
        """Keep the database open across a short sequence of `connect`s in this process: they then take a
        connection to the attached file (under 1 ms of CPU) instead of attaching it again (~6 ms with the detach).
        The file stays locked meanwhile, so only around quick work: never across a wait or an LLM call."""
        with self.connect():
            yield

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection inside one transaction: committed on success, rolled back on any error."""
        with self.connect() as connection, within_transaction(connection):
            yield connection


def second_connection(connection: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Another connection to `connection`'s instance reading the same database (a bare cursor would start
    in the shared instance's own in-memory catalog); the caller closes it."""
    ((catalog,),) = connection.execute("SELECT current_database()").fetchall()
    cursor = connection.cursor()
    cursor.execute('USE "{}"'.format(str(catalog).replace('"', '""')))
    return cursor


@contextmanager
def within_transaction(connection: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """One transaction on an open connection (of `Store.connect`, which may run several in turn, saving a
    reopening of the database each): committed on success, rolled back on any error."""
    connection.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        _roll_back_quietly(connection)
        raise
    connection.execute("COMMIT")


def _roll_back_quietly(connection: duckdb.DuckDBPyConnection) -> None:
    """Roll back, keeping the error that caused it: after a disk-full or out-of-memory failure DuckDB may
    refuse even the ROLLBACK, and its complaint would hide the cause."""
    with suppress(duckdb.Error):
        connection.execute("ROLLBACK")


def migration_files() -> list[tuple[int, str, Path]]:
    """The ordered schema migrations in `sql/schema/` as (version, name, path)."""
    found = []
    for path in sorted(resource_dir("sql").joinpath("schema").glob("*.sql")):
        match = _MIGRATION_NAME.match(path.name)
        if not match:
            raise RuntimeError(f"migration file {path.name} is not named NNN_name.sql")
        found.append((int(match.group(1)), match.group(2), path))
    return found


def _move_finding_traces(connection: duckdb.DuckDBPyConnection) -> None:
    """Migration 11's data: each run's trace lists moved out of runs.findings, one run at a time (one
    statement over every run parsed all their findings at once: out of memory at 23 runs of 1M spans)."""
    for (run_id,) in connection.execute(sql_text("store/runs_with_findings.sql")).fetchall():
        findings = connection.execute(sql_text("store/run_findings.sql"), {"run_id": run_id}).fetchall()[0][0]
        connection.execute(sql_text("runs/insert_finding_traces.sql"), {"run_id": run_id, "findings": findings})
        connection.execute(sql_text("store/empty_finding_lists.sql"), {"run_id": run_id})


_MIGRATION_STEPS: dict[int, Callable[[duckdb.DuckDBPyConnection], None]] = {11: _move_finding_traces}
"""Work a migration does after its file, in the same transaction: data moved row by row."""


def apply_migrations(connection: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply every migration not yet recorded (its file, then its `_MIGRATION_STEPS`), each in its own
    transaction; return the versions applied."""
    connection.execute(sql_text("store/migrations_table.sql"))
    done = {row[0] for row in connection.execute(sql_text("store/applied_migrations.sql")).fetchall()}
    applied = []
    for version, name, path in migration_files():
        if version in done:
            continue
        connection.execute("BEGIN TRANSACTION")
        try:
            connection.execute(path.read_text(encoding="utf-8"))
            if version in _MIGRATION_STEPS:
                _MIGRATION_STEPS[version](connection)
            connection.execute(sql_text("store/record_migration.sql"), {"version": version, "name": name})
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
        applied.append(version)
    return applied
