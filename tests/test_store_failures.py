"""The store is private and its failures are named: HALO_HOME is 0700 and its files 0600 whatever the
umask, an open one is warned about, and a damaged database, a full disk, a refused permission and memory
run out each end a real CLI call with their own one-line error and exit code, never "this is a bug"."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from halo_local.errors import DatabaseDamagedError, DiskFullError, MemoryExhaustedError, PermissionDeniedError
from halo_local.ingest import load_paths, loader
from halo_local.store import Store

FIXTURE = Path(__file__).parent / "fixtures" / "halo" / "realistic_traces.jsonl"
FIXTURES = Path(__file__).parent / "fixtures"


def cli(*args: str, home: Path, umask: int = 0o022, **env: str) -> subprocess.CompletedProcess[str]:
    """`halo-local ARGS` in a child process under the usual umask."""
    return subprocess.run([sys.executable, "-m", "halo_local", *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "HALO_HOME": str(home), **env}, preexec_fn=lambda: os.umask(umask))


def assert_named_failure(done: subprocess.CompletedProcess[str], exit_code: int, first_line: str) -> None:
    assert done.returncode == exit_code, done.stderr
    assert done.stderr.splitlines()[0] == first_line
    assert "bug in halo-local" not in done.stderr
    assert "Traceback" not in done.stderr


@pytest.fixture(scope="module")
def loaded_database(halo_capture_home: Path) -> Path:
    """A database holding the realistic fixture, to copy and damage (conftest's, loaded once per test process:
    a `traces load` process of its own cost ~1.2 CPU-s)."""
    return halo_capture_home / "halo.duckdb"


def test_halo_home_and_everything_in_it_are_private(tmp_path: Path) -> None:
    home = tmp_path / "fresh" / "home"
    done = cli("analyze", str(FIXTURE), "--no-llm", "--json", home=home)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    analysed = json.loads(done.stdout)
    assert {path.name for path in (home / "runs" / analysed["runId"]).iterdir()} >= {"snapshot.parquet", "report.md"}
    window = analysed["window"]
    detached = cli("run", "create", "--agent-uuid", analysed["agentUuid"], "--window-start-at", window["start"],
                   "--window-end-at", window["end"], "--no-llm", "--json", home=home)
    assert detached.returncode == 0, detached.stderr
    run_id = json.loads(detached.stdout)["runId"]
    assert cli("run", "poll", run_id, "--interval", "1", home=home).returncode == 0
    assert (home / "runs" / run_id / "worker.log").is_file()
    for path in [home, *home.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), f"{path} is {mode:o}"


def test_a_home_open_to_others_is_warned_about_once(tmp_path: Path, loaded_database: Path) -> None:
    home = tmp_path / "shared"
    home.mkdir(mode=0o755)
    os.chmod(home, 0o755)
    shutil.copy(loaded_database, home / "halo.duckdb")
    done = cli("trace", "list", "--time-range", "all", home=home)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        f"Warning: {home} can be read by other users (mode 755) and holds raw trace data, secrets included: "
        f"chmod -R go-rwx {home}"]
    os.chmod(home, 0o700)
    os.chmod(home / "halo.duckdb", 0o600)
    assert cli("trace", "list", "--time-range", "all", home=home).stderr == ""


def damaged_copy(database: Path, home: Path, how: str) -> Path:
    home.mkdir(mode=0o700)
    data = bytearray(database.read_bytes())
    if how == "truncated":
        data = data[: len(data) // 2]
    else:  # 64 flipped bytes in the first data block, past the three 4 KiB headers
        data[12_300:12_364] = bytes(byte ^ 0xFF for byte in data[12_300:12_364])
    target = home / "halo.duckdb"
    target.write_bytes(bytes(data))
    target.chmod(0o600)
    return target


@pytest.mark.parametrize(("how", "reason"), [
    ("truncated", "it ends before its contents do: truncated"),
    ("flipped", "a block fails its checksum"),
])
def test_a_damaged_database_says_to_move_it_aside(tmp_path: Path, loaded_database: Path, how: str,
                                                   reason: str) -> None:
    database = damaged_copy(loaded_database, tmp_path / "home", how)
    done = cli("agent", "list", "--time-range", "all", home=tmp_path / "home")
    assert_named_failure(done, DatabaseDamagedError.exit_code,
                         f"Error: the database file {database} is damaged ({reason}): move it aside "
                         f"(mv {database} {database}.damaged) and load your traces again")
    as_json = cli("agent", "list", "--time-range", "all", "--json", home=tmp_path / "home")
    assert json.loads(as_json.stdout)["error"]["exitCode"] == 8


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs, where the machine allows mounting one (root on Linux); else the test is skipped."""
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)],
                             capture_output=True, text=True) if shutil.which("mount") else None
    if mounted is None or mounted.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root); the injected ENOSPC test still runs")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=False)


def test_a_full_disk_names_the_file_being_loaded_and_the_disk(tiny_disk: Path) -> None:
    home = tiny_disk / "home"
    done = cli("traces", "load", str(FIXTURES), home=home)
    assert done.returncode == DiskFullError.exit_code, done.stderr
    line = done.stderr.splitlines()[0]
    assert line.startswith(f"Error: while loading {FIXTURES}/")
    assert f": the disk holding {home}/halo.duckdb" in line
    assert line.endswith("is full: free some space (or point HALO_HOME at a bigger disk) and run the command again")
    assert "bug in halo-local" not in done.stderr


def test_a_refused_permission_names_the_path(tmp_path: Path, loaded_database: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    database = home / "halo.duckdb"
    shutil.copy(loaded_database, database)
    if os.geteuid() != 0:
        database.chmod(0o000)
        done = cli("agent", "list", home=home)
    else:  # root reads any file: refuse at the seam where DuckDB opens it, as the kernel would
        refuse = ("import duckdb, sys; from halo_local import cli, store\n"
                  "def refused(path, *a, **k): raise duckdb.IOException(f'IO Error: Cannot open file \"{path}\": "
                  "Permission denied')\n"
                  "store._shared.open = refused\nsys.exit(cli.main(['agent', 'list']))")
        done = subprocess.run([sys.executable, "-c", refuse], capture_output=True, text=True, timeout=120,
                              env={**os.environ, "HALO_HOME": str(home)})
    assert_named_failure(done, PermissionDeniedError.exit_code,
                         f"Error: permission denied on {database}: give your user read and write access "
                         f"(chmod u+rw {database}) or point HALO_HOME at a folder you own")


def test_memory_run_out_names_the_limit_and_the_file_being_loaded(tmp_path: Path) -> None:
    done = cli("traces", "load", str(FIXTURE), home=tmp_path / "home", HALO_MEMORY_LIMIT="2MB")
    assert done.returncode == MemoryExhaustedError.exit_code, done.stderr
    line = done.stderr.splitlines()[0]
    assert line == (f"Error: while loading {FIXTURE}: out of memory (HALO_MEMORY_LIMIT=2MB) working on "
                    f"{tmp_path / 'home' / 'halo.duckdb'}: raise HALO_MEMORY_LIMIT (e.g. HALO_MEMORY_LIMIT=4GB) "
                    "or give the command less data at a time")


def test_a_disk_full_error_injected_mid_load_names_the_file_and_leaves_nothing(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_space(*_args: object, **_kwargs: object) -> None:
        raise OSError(28, "No space left on device", str(store.home / "tmp" / "spill.tmp"))

    monkeypatch.setattr(loader, "insert_normalized", no_space)
    with pytest.raises(DiskFullError) as raised:
        load_paths(store, [FIXTURE])
    assert raised.value.message == (
        f"while loading {FIXTURE}: the disk holding {store.home / 'tmp' / 'spill.tmp'} is full: free some space "
        "(or point HALO_HOME at a bigger disk) and run the command again")
    with store.connect() as connection:
        assert connection.execute("SELECT count(*) FROM loaded_files").fetchone() == (0,)


def test_duckdb_write_failures_are_named_and_a_failed_rollback_keeps_the_cause(store: Store) -> None:
    wal = store.home / "halo.duckdb.wal"
    with pytest.raises(DiskFullError, match=f"the disk holding {wal} is full"), store.transaction():
        raise duckdb.IOException(f'IO Error: Could not write file "{wal}": No space left on device')
    with pytest.raises(MemoryExhaustedError, match="out of memory"), store.transaction() as connection:
        connection.close()  # the ROLLBACK that follows fails too; the cause is what is reported
        raise duckdb.OutOfMemoryException("Out of Memory Error: failed to allocate data of size 512.0 MiB")


def test_an_unexpected_load_failure_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from halo_local import cli

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("normalizer exploded")

    monkeypatch.setattr(loader, "insert_normalized", broken)
    assert cli.main(["traces", "load", str(FIXTURE)]) == 1
    assert capsys.readouterr().err.splitlines()[0] == (
        f"Error: unexpected RuntimeError: normalizer exploded (while loading {FIXTURE})")
