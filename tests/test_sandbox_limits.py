"""The sandbox's resource limits hold whatever the SQL: memory by the child's RLIMIT_AS, time by an
interrupt and then a kill; the host process and the data are unaffected, and the next query works.

Time limits are tripped deterministically: a sandbox process stopped with SIGSTOP can never answer,
so the parent must interrupt, then kill it; elapsed times are only checked against generous bounds.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from fake_anthropic import write_spans_parquet
from mcp.server.mcpserver.exceptions import ToolError

from halo_local import cli
from halo_local.errors import HaloLocalError, UsageError
from halo_local.llm.tools import RUN_SQL, SpanTools
from halo_local.mcp_tools import HaloTools
from halo_local.sandbox import SandboxError, SpanSandbox
from halo_local.sandbox_process import KILL_GRACE_SECONDS, memory_limit_bytes
from halo_local.store import Store

T0 = 1_767_225_600_000_000_000
SPANS = [
    {"trace_id": f"{index:032x}", "span_id": f"{index:016x}", "name": f"invoke_agent planner {index}",
     "span_type": "agent", "start_ns": T0 + index}
    for index in range(3)
]
STRING_BOMB = "SELECT length(repeat('x', 3000000000))"  # 3 GB in one value: ran 34 s at 6 GB before
SPAN_STRING_BOMB = "SELECT max(length(repeat(name, 100000000))) FROM spans"  # reached 23 GB and the OOM killer
TWO_HUNDRED_MB = "SELECT strlen(repeat(repeat('x', 1000000), 200)) AS n"
GENEROUS_SECONDS = 30.0  # an upper bound a loaded machine cannot reach by slowness alone


def _status_bytes(pid: int | str, field: str) -> int:
    """A `kB` field of /proc/PID/status (VmHWM: peak resident set) in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"{field} missing from /proc/{pid}/status")


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_spans_parquet(tmp_path_factory.mktemp("limits") / "snapshot.parquet", SPANS)


@pytest.fixture
def sandbox(snapshot: Path) -> Iterator[SpanSandbox]:
    with SpanSandbox.from_parquet(snapshot) as box:
        yield box


@pytest.mark.parametrize("sql", [STRING_BOMB, SPAN_STRING_BOMB])
def test_a_string_bomb_ends_at_the_memory_limit_and_the_next_query_works(sandbox: SpanSandbox, sql: str) -> None:
    host_peak = _status_bytes("self", "VmHWM")
    started = time.monotonic()
    with pytest.raises(SandboxError, match="^the query exceeded the sandbox memory limit of 1 GB$"):
        sandbox.query(sql)
    assert time.monotonic() - started < sandbox.time_limit_seconds + KILL_GRACE_SECONDS
    pid = sandbox.process_id
    assert pid is not None
    assert _status_bytes(pid, "VmHWM") < (1 << 30) + (256 << 20)  # the ceiling plus the interpreter and spans
    assert _status_bytes("self", "VmHWM") - host_peak < 64 << 20  # the host never held the string
    assert sandbox.query("SELECT count(*) FROM spans").rows == ((3,),)


def test_the_memory_limit_is_configurable(snapshot: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # 200 MB in one value: fits in 1 GB, not in 128 MB. Building it takes seconds on a loaded machine,
    # so the sandbox it fits in gets a time limit that slowness alone cannot reach.
    with SpanSandbox.from_parquet(snapshot, time_limit_seconds=600) as box:
        assert box.query(TWO_HUNDRED_MB).rows == ((200_000_000,),)
    with SpanSandbox.from_parquet(snapshot, memory_limit="128MB") as box:
        with pytest.raises(SandboxError, match="memory limit of 128 MB"):
            box.query(TWO_HUNDRED_MB)
    monkeypatch.setenv("HALO_SANDBOX_MEMORY_LIMIT", "128MB")
    with SpanSandbox.from_parquet(snapshot) as box:
        assert box.memory_limit_bytes == 128 << 20
        with pytest.raises(SandboxError, match="memory limit of 128 MB"):
            box.query(TWO_HUNDRED_MB)


def test_memory_limits_are_read_as_sizes(monkeypatch: pytest.MonkeyPatch) -> None:
    assert memory_limit_bytes() == 1 << 30
    assert memory_limit_bytes("512MB") == 512 << 20
    assert memory_limit_bytes("1.5gb") == 3 << 29
    assert memory_limit_bytes("2 GiB") == 2 << 30
    assert memory_limit_bytes("300") == 300 << 20
    assert memory_limit_bytes(256 << 20) == 256 << 20
    for bad in ("lots", "1 PB", "-5MB", "10MB"):
        with pytest.raises(UsageError, match="--memory-limit must be"):
            memory_limit_bytes(bad)
    monkeypatch.setenv("HALO_SANDBOX_MEMORY_LIMIT", "2GB")
    assert memory_limit_bytes() == 2 << 30
    monkeypatch.setenv("HALO_SANDBOX_MEMORY_LIMIT", "huge")
    with pytest.raises(HaloLocalError, match="^HALO_SANDBOX_MEMORY_LIMIT must be a size"):
        memory_limit_bytes()


def test_a_query_that_ignores_its_interrupt_is_killed_a_second_after_its_time_limit(snapshot: Path) -> None:
    with SpanSandbox.from_parquet(snapshot, time_limit_seconds=0.5) as box:
        stuck = box.process_id
        assert stuck is not None
        os.kill(stuck, signal.SIGSTOP)  # it can neither finish nor honour the interrupt
        started = time.monotonic()
        with pytest.raises(SandboxError, match="^the query exceeded the sandbox time limit of 0.5 s and was stopped$"):
            box.query("SELECT count(*) FROM spans")
        elapsed = time.monotonic() - started
        assert 0.5 + KILL_GRACE_SECONDS <= elapsed < GENEROUS_SECONDS
        assert box.process_id is None and not Path(f"/proc/{stuck}").exists()
        assert box.query("SELECT count(*) FROM spans").rows == ((3,),)  # a new process, the spans reloaded
        assert box.process_id not in (None, stuck)


def test_interrupt_from_another_thread_ends_even_an_unresponsive_query(snapshot: Path) -> None:
    with SpanSandbox.from_parquet(snapshot, time_limit_seconds=3600) as box:
        assert box.process_id is not None
        os.kill(box.process_id, signal.SIGSTOP)
        outcome: list[BaseException] = []

        def query() -> None:
            try:
                box.query("SELECT count(*) FROM spans")
            except SandboxError as error:
                outcome.append(error)

        worker = threading.Thread(target=query)
        worker.start()
        deadline = time.monotonic() + GENEROUS_SECONDS
        while worker.is_alive() and time.monotonic() < deadline:
            box.interrupt()  # an interrupt lands once the query is under way; before, it is a no-op
            worker.join(timeout=0.05)
        assert not worker.is_alive()
        assert [str(error) for error in outcome] == ["the query was stopped before it finished"]


def test_a_sandbox_process_killed_from_outside_is_replaced_at_the_next_query(sandbox: SpanSandbox) -> None:
    pid = sandbox.process_id
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)  # until it has ended, leaving it for the sandbox to reap
    assert sandbox.query("SELECT count(*) FROM spans").rows == ((3,),)
    assert sandbox.process_id != pid


def test_the_tools_queries_are_bounded_too(sandbox: SpanSandbox) -> None:
    """view_trace and friends run in the same process, under the same limits."""
    assert sandbox.view_trace(f"{1:032x}").startswith(f"trace {1:032x}: 1 spans")
    assert sandbox.process_id is not None
    os.kill(sandbox.process_id, signal.SIGSTOP)
    sandbox.time_limit_seconds = 0.2
    with pytest.raises(SandboxError, match="time limit of 0.2 s"):
        sandbox.view_trace(f"{1:032x}")
    sandbox.time_limit_seconds = 10.0
    assert sandbox.known_ids([f"{2:032x}"]) == ({f"{2:032x}"}, set())


def test_a_closed_sandbox_refuses_queries_and_leaves_no_process(snapshot: Path) -> None:
    box = SpanSandbox.from_parquet(snapshot)
    pid = box.process_id
    box.close()
    assert not Path(f"/proc/{pid}").exists()
    with pytest.raises(SandboxError, match="closed"):
        box.query("SELECT 1")


@pytest.fixture
def stored(store: Store) -> Store:
    """A home with three stored spans (generated, no trace file read)."""
    with store.connect() as connection:
        connection.execute(
            "INSERT INTO spans (trace_id, span_id, name, kind, start_ns, start_time, status_code, span_type) "
            "SELECT printf('%032x', i), printf('%016x', i), 'invoke_agent planner ' || i, 'internal', $t0 + i, "
            "make_timestamp(($t0 + i) // 1000), 'ok', 'agent' FROM range(3) t(i)", {"t0": T0})
    return store


def test_the_cli_query_ends_a_string_bomb_at_the_memory_limit(stored: Store, monkeypatch: pytest.MonkeyPatch,
                                                               capfd: pytest.CaptureFixture[str]) -> None:
    bomb = subprocess.run([sys.executable, "-m", "halo_local", "query", SPAN_STRING_BOMB], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "HALO_HOME": str(stored.home)})
    assert bomb.returncode == 1 and bomb.stdout == ""
    assert bomb.stderr.startswith("Error: the query exceeded the sandbox memory limit of 1 GB\nHint: ")

    # The flag's paths in this process (its statement still runs in a sandbox process of its own).
    def query(*args: str) -> tuple[int, str, str]:
        capfd.readouterr()
        code = cli.main(["query", *args])
        out, err = capfd.readouterr()
        return code, out, err

    monkeypatch.setenv("HALO_HOME", str(stored.home))
    assert query(TWO_HUNDRED_MB, "--memory-limit", "128MB")[2].startswith(
        "Error: the query exceeded the sandbox memory limit of 128 MB")
    code, _, err = query("SELECT 1", "--memory-limit", "lots")
    assert code == 2 and "--memory-limit must be a size such as 512MB or 2GB" in err
    assert query("SELECT count(*) AS n FROM spans")[1].splitlines() == ["n", "3", "(1 row)"]


def test_mcp_query_spans_ends_a_string_bomb_at_the_memory_limit(stored: Store) -> None:
    tools = HaloTools(stored)
    try:
        with pytest.raises(ToolError, match="^the query exceeded the sandbox memory limit of 1 GB"):
            anyio.run(tools.query_spans, STRING_BOMB)
        assert json.loads(anyio.run(tools.query_spans, "SELECT count(*) AS n FROM spans"))["rows"] == [[3]]
    finally:
        tools.sandboxes.close()


def test_the_llm_run_sql_tool_ends_a_string_bomb_at_the_memory_limit(snapshot: Path) -> None:
    with SpanSandbox.from_parquet(snapshot) as sandbox:
        tools = SpanTools(sandbox)
        bomb = tools.run(RUN_SQL, {"sql": SPAN_STRING_BOMB})
        assert bomb.is_error and bomb.text.startswith("the query exceeded the sandbox memory limit of 1 GB")
        assert tools.run(RUN_SQL, {"sql": "SELECT count(*) AS n FROM spans"}).text.splitlines()[1] == "3"
