"""ClickHouse source benchmark: the cluster's work beside the same work on a local DuckDB store.

Generates --spans synthetic agent spans inside chDB with SQL (sql/bench/clickhouse_spans.sql, in the
collector exporter's otel_traces), copies the same spans into a local halo-local store (fetched a day at a
time as Arrow and normalized like any selection, not through the file loader), then times, in the same run and process:

- agent list: ClickHouseSource.agents() vs traces.list_agents() on the local store;
- a run's window overview: ClickHouseSource.overview() vs local_overview() (and the two must be equal);
- a run's selection (both windows, one query): ClickHouseSource.selection() vs the local snapshot query
  (halo_local/runs/snapshot.py, both windows, written to Parquet as a run writes them);
- bytes fetched to the laptop per run (Arrow bytes of the selection) for two span limits and two
  window lengths: it must follow the span limit, not the window.

Wall seconds with process CPU seconds (user+sys of every thread: chDB and DuckDB run in this process)\nbeside them; the machine is shared, so read them as a pair. The generated table is merged\n(OPTIMIZE ... FINAL) before timing, as a collector's table is merged in the background.
Usage: python bench/clickhouse.py [--spans 10000000] [--span-limit 5000] [--out bench/out/clickhouse]
Needs the `clickhouse` extra. Not run by CI. Figures go in the README.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from _options import run_with_fire, whole_number

from halo_local import redact, traces
from halo_local.resources import sql_template, sql_text
from halo_local.runs.snapshot import write_snapshot
from halo_local.sources.clickhouse import ClickHouseSource, open_client
from halo_local.sources.overview import local_overview
from halo_local.sources.snapshot import store_selection
from halo_local.sources.url import parse_source_url
from halo_local.store import Store

START = datetime(2026, 1, 1)
TEMPLATE_TRACES = 20  # sql/bench/clickhouse_spans.sql repeats all but ids and times every 20 traces


def timed(work: Callable[[], Any]) -> tuple[Any, float, float]:
    """(result, wall seconds, CPU seconds of this process)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return result, time.perf_counter() - wall, time.process_time() - cpu


@dataclass(frozen=True)
class Options:
    """The command line, typed (fire guesses each value's type from its look)."""

    spans: int
    span_limit: int


def main(spans: int = 10_000_000, span_limit: int = 5000, out: str | Path = "bench/out/clickhouse") -> None:
    options = Options(spans=whole_number(spans, "--spans"), span_limit=whole_number(span_limit, "--span-limit"))
    out = Path(str(out)).resolve()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    url = parse_source_url(f"chdb://{out / 'chdb'}?table=otel.otel_traces&timeout=3600")
    client = open_client(url)
    client.command("CREATE DATABASE otel")
    definition = (Path(__file__).parent.parent / "tests" / "fixtures" / "clickhouse" / "otel_traces.sql").read_text()
    client.command(definition.replace("{database}", "otel").replace("{table}", "otel_traces"))
    start_us = int((START - datetime(1970, 1, 1)).total_seconds() * 1_000_000)
    _, seconds, _ = timed(lambda: client.command(sql_text("bench/clickhouse_spans.sql"), parameters={
        "spans": options.spans, "start_us": start_us}))
    stored_bytes = client.query("SELECT sum(data_compressed_bytes) FROM system.parts WHERE database = 'otel'"
                                " AND active").result_rows[0][0]
    print(f"generated {options.spans} spans in chDB in {seconds:.1f}s ({stored_bytes / options.spans:.1f} bytes/span"
          " compressed); cores: " + str(os.cpu_count()))

    parts = "SELECT count() FROM system.parts WHERE database = 'otel' AND active"
    parts_before = client.query(parts).result_rows[0][0]
    # A collector's table is merged in the background; the generator's insert leaves fresh parts.
    _, merge_wall, merge_cpu = timed(lambda: client.command("OPTIMIZE TABLE otel.otel_traces FINAL"))
    print(f"merged {parts_before} parts into {client.query(parts).result_rows[0][0]} in {merge_wall:.1f} s"
          f" ({merge_cpu:.1f} CPU)", flush=True)

    source = ClickHouseSource(url)
    store = Store(out / "home")
    traces_count = max(1, options.spans // 10)

    def copy_locally() -> None:
        """The first TEMPLATE_TRACES traces fetched and normalized like any selection, the rest by SQL."""
        chunk_sql = sql_template("bench/clickhouse_chunk.sql", table=url.qualified_table)
        first = client.query_arrow(chunk_sql, parameters={
            "chunk_start_us": start_us,
            "chunk_end_us": start_us + TEMPLATE_TRACES * 604_800_000_000 // traces_count}, use_strings=True)
        assert first.num_rows == TEMPLATE_TRACES * 10, first.num_rows
        store_selection(store, first, source=str(url))
        with store.transaction() as connection:
            connection.execute(sql_text("bench/local_spans.sql"), {
                "start_us": start_us, "traces": traces_count, "template_traces": TEMPLATE_TRACES})

    _, copy_wall, copy_cpu = timed(copy_locally)
    print(f"copied into the local store in {copy_wall:.1f} s ({copy_cpu:.1f} CPU)", flush=True)
    print(f"load average before timing: {' '.join(f'{load:.1f}' for load in os.getloadavg())}")
    print("| step | chDB wall (CPU) | local DuckDB wall (CPU) |\n|---|---|---|")

    def row(step: str, remote: tuple[Any, float, float], local: tuple[Any, float, float]) -> None:
        print(f"| {step} | {remote[1]:.2f} s ({remote[2]:.2f}) | {local[1]:.2f} s ({local[2]:.2f}) |", flush=True)

    remote_agents = timed(lambda: source.agents(None))
    local_agents = timed(lambda: traces.list_agents(store, time_range="all"))
    agents = remote_agents[0]
    assert [a["spanCount"] for a in agents] == [a["spanCount"] for a in local_agents[0]]
    row(f"agent list ({len(agents)} agents)", remote_agents, local_agents)

    uuid = agents[0]["agentUuid"]
    run_window = (START + timedelta(days=4), START + timedelta(days=8))  # the previous window: the 4 days before

    def local_selection() -> None:
        with store.connect() as connection:
            connection.execute(redact.sql_macro())
            for start, end in ((run_window[0] - (run_window[1] - run_window[0]), run_window[0]), run_window):
                write_snapshot(connection, {"agent_uuid": uuid, "window_start": start, "window_end": end,
                                            "span_limit": options.span_limit}, store.home / "selection.parquet")

    def local_window_overview() -> dict[str, Any]:
        with store.connect() as connection:
            return local_overview(connection, agent_uuid=uuid, window_start=run_window[0], window_end=run_window[1])

    remote_overview = timed(lambda: source.overview(uuid, *run_window))
    local_overview_result = timed(local_window_overview)
    assert remote_overview[0]["totals"]["spans"] > 0
    assert remote_overview[0] == local_overview_result[0]  # the same spans: the same window-wide numbers
    row("run: window overview (4 days)", remote_overview, local_overview_result)
    remote_selection = timed(lambda: source.selection(uuid, *run_window, span_limit=options.span_limit,
                                                      with_previous=True))
    row(f"run: selection of 2 windows (limit {options.span_limit})", remote_selection, timed(local_selection))
    print(f"load average after timing: {' '.join(f'{load:.1f}' for load in os.getloadavg())}")
    print(f"bytes fetched by the timed run: {remote_selection[0].nbytes} ({remote_selection[0].num_rows} spans)")
    # With the timed run (two 4-day windows at the span limit), four points: the 8-day window at the
    # full limit costs another walk over every span, so it is left out.
    for days, limit in ((1, options.span_limit // 5), (1, options.span_limit), (8, options.span_limit // 5)):
        selection = source.selection(uuid, START, START + timedelta(days=days), span_limit=limit)
        print(f"bytes fetched: window {days}d, span limit {limit}: {selection.nbytes} bytes"
              f" ({selection.num_rows} spans)", flush=True)


if __name__ == "__main__":
    run_with_fire(main, __doc__)
