"""Shared test set-up: every test gets its own $HALO_HOME and no Anthropic key from the outside;
`store` is that home with an empty migrated database, copied from one built per test process (xdist
worker); `loaded_home` gives a home holding some trace files, loaded once per test process and set of
files (a load costs up to ~1.5 CPU-s, a copy milliseconds); `halo_store` that home holding HALO's capture,
copied from one load per test process, and
`analysed_helper_store` that home holding runs_support's Helper traces and one finished heuristics-only
run over them, also built once per process; `fake_clock` lets a test trip run time
limits and retry waits instead of racing the wall clock."""

from __future__ import annotations

import shutil
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest
from fake_clock import FakeClock
from hypothesis import settings
from runs_support import AnalysedHome, agent_traces, create_run, insert_spans

from halo_local import clock
from halo_local.ingest import load_paths
from halo_local.store import DATABASE_FILE, Store
from halo_local.traces import list_agents

# Keep the assertion-rewritten test modules (and the modules they import) cached even where
# PYTHONDONTWRITEBYTECODE is set: every xdist worker imports every test module, ~2 CPU-s each time.
sys.dont_write_bytecode = False

FIXTURES = Path(__file__).parent / "fixtures"
HALO_CAPTURE = FIXTURES / "halo" / "realistic_traces.jsonl"

# The longest test files (wall on 2 loaded workers, longest first): collected first so that, with
# `--dist loadfile` handing out whole files, none of them starts last on one worker while the other
# worker idles (the suite's tail); every other file keeps its alphabetical place after them.
LONGEST_FILES_FIRST = (
    "test_heuristics.py", "test_runs_llm.py", "test_sources_clickhouse.py", "test_onepass.py", "test_cli_analyze.py",
    "test_serve.py", "test_mcp.py", "test_cli_run_workers.py", "test_runs.py", "test_readers.py",
    "test_schedules_store.py", "test_store_failures.py", "test_llm.py", "test_cli.py", "test_cli_papercuts.py",
    "test_secret_verdict.py",
)


# Hypothesis' per-example deadline (200 ms) is a stopwatch: under load an example outran it.
settings.register_profile("halo-local", deadline=None)
settings.load_profile("halo-local")


def pytest_configure(config: pytest.Config) -> None:
    """Keep that order under xdist: its scheduler otherwise hands out the files with the most tests first
    (`--loadscope-reorder`, on by default), which started test_readers and test_redact first and left
    test_cli_run_workers (3 tests, ~60 s) to the end."""
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Longest files first (a stable sort: a file's tests keep their order and stay together)."""
    rank = {name: index for index, name in enumerate(LONGEST_FILES_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point HALO_HOME at a fresh folder and make sure no real key or endpoint leaks in."""
    home = tmp_path / "halo-home"
    monkeypatch.setenv("HALO_HOME", str(home))
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    return home


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClock]:
    """Run time limits and LLM retry waits in this process measure time on a clock the test moves."""
    fake = FakeClock()
    monkeypatch.setattr(clock, "current", fake)
    yield fake


@pytest.fixture(scope="session")
def migrated_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty HALO_HOME whose database has every migration applied, built once per test process: a
    fresh database costs ~70 ms CPU and ~250 ms wall (nine committed migrations), a copy ~5 ms."""
    home = tmp_path_factory.mktemp("migrated") / "home"
    with Store(home).connect():
        pass
    return home


@pytest.fixture
def store(isolated_home: Path, migrated_home: Path) -> Store:
    """This test's own HALO_HOME with an empty, migrated database (a copy of `migrated_home`), unless a
    fixture set up before it (e.g. `halo_store`) already put one there."""
    if not (isolated_home / DATABASE_FILE).exists():
        shutil.copytree(migrated_home, isolated_home, dirs_exist_ok=True)
    return Store(isolated_home)


@pytest.fixture(scope="session")
def loaded_home(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """`loaded_home(*paths)`: a HALO_HOME holding `paths` as one load stores them, built once per test
    process for each set of paths; never written to: read it, or copy it into the test's own home."""
    homes: dict[tuple[Path, ...], Path] = {}

    def home_of(*paths: Path) -> Path:
        if paths not in homes:
            home = tmp_path_factory.mktemp("loaded") / "home"
            load_paths(Store(home), list(paths))
            homes[paths] = home
        return homes[paths]
    return home_of


@pytest.fixture(scope="session")
def halo_capture_home(loaded_home: Callable[..., Path]) -> Path:
    """A HALO_HOME with HALO's realistic capture loaded, built once per test process; never written to."""
    return loaded_home(HALO_CAPTURE)


@pytest.fixture
def halo_store(isolated_home: Path, halo_capture_home: Path) -> Store:
    """This test's own HALO_HOME holding HALO's capture: a copy, so the test may write to it."""
    shutil.copytree(halo_capture_home, isolated_home, dirs_exist_ok=True)
    return Store(isolated_home)


@pytest.fixture(scope="module")
def module_capture_home(tmp_path_factory: pytest.TempPathFactory, halo_capture_home: Path) -> tuple[Path, str]:
    """A HALO_HOME holding HALO's capture that one test module's runs share (its own copy), and the
    capture's agent UUID: for tests whose real processes add runs but never depend on the others' runs."""
    home = tmp_path_factory.mktemp("module-capture") / "home"
    shutil.copytree(halo_capture_home, home)
    [agent] = list_agents(Store(home), time_range="all")
    return home, agent["agentUuid"]


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def helper_traces_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """runs_support's five Helper traces (`agent_traces(5)`) and nothing else, stored once per test process
    (~60 ms a time); never written to: `helper_traces_store` is a copy."""
    home = tmp_path_factory.mktemp("helper-traces") / "home"
    insert_spans(Store(home), agent_traces(5))
    return home


@pytest.fixture
def helper_traces_store(isolated_home: Path, helper_traces_home: Path) -> Store:
    """This test's own HALO_HOME holding a copy of `helper_traces_home`."""
    shutil.copytree(helper_traces_home, isolated_home, dirs_exist_ok=True)
    return Store(isolated_home)


@pytest.fixture(scope="session")
def analysed_helper(tmp_path_factory: pytest.TempPathFactory) -> AnalysedHome:
    """runs_support's five Helper traces and a completed heuristics-only run over WINDOW, built once per test
    process (a run costs ~2.5 CPU-s); never written to: tests that read or add runs take
    `analysed_helper_store`, a copy."""
    home = tmp_path_factory.mktemp("analysed-helper") / "home"
    store = Store(home)
    insert_spans(store, agent_traces(5))
    seen: list[str] = []
    run = create_run(store, no_llm=True, on_event=lambda event: seen.append(event.kind))
    assert run["status"] == "completed", run["statusReason"]
    return AnalysedHome(home, run, seen)


@pytest.fixture
def analysed_helper_store(isolated_home: Path, analysed_helper: AnalysedHome) -> Store:
    """This test's own HALO_HOME holding a copy of `analysed_helper`'s traces and run."""
    shutil.copytree(analysed_helper.home, isolated_home, dirs_exist_ok=True)
    return Store(isolated_home)


@pytest.fixture
def store_openings(monkeypatch: pytest.MonkeyPatch) -> Callable[[], int]:
    """How often this process has opened a database file since: a `Store.connect` while no other of its
    connections is open (attaching and detaching it cost ~6 ms of CPU; a nested one takes the attached
    file for under 1 ms)."""
    opened, active = 0, 0
    lock = threading.Lock()
    connect = Store.connect

    @contextmanager
    def counting_connect(self: Store) -> Iterator[duckdb.DuckDBPyConnection]:
        nonlocal opened, active
        with lock:
            opened += active == 0
            active += 1
        try:
            with connect(self) as connection:
                yield connection
        finally:
            with lock:
                active -= 1

    monkeypatch.setattr(Store, "connect", counting_connect)
    return lambda: opened
