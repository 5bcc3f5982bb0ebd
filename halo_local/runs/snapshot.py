"""A run's trace dataset: the window's spans (and the previous window's) copied to Parquet, and the
in-memory DuckDB the heuristics read them from."""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from halo_local import redact
from halo_local.common.timestamps import iso, utc_now
from halo_local.resources import sql_template, sql_text
from halo_local.runs.control import RunControl, Stopped
from halo_local.runs.rows import PREVIOUS_FILE, SNAPSHOT_FILE, WRITE_LOCK, RunRecord, source_overview
from halo_local.store import DEFAULT_MEMORY_LIMIT, MEMORY_LIMIT_ENV


@dataclass(frozen=True)
class Dataset:
    snapshot: Path
    previous: Path | None
    snapshot_spans: int
    snapshot_traces: int
    window_spans: int
    window_traces: int
    previous_spans: int

    @property
    def truncated(self) -> bool:
        return self.snapshot_spans < self.window_spans


def take_snapshot(control: RunControl, run: RunRecord, run_dir: Path) -> Dataset:
    """Copy the window's spans (and the previous window's) to Parquet; no spans → `no_traces`."""
    store = control.store
    params = {"agent_uuid": run.agent_uuid, "window_start": run.window_start, "window_end": run.window_end,
              "span_limit": run.span_limit}
    length = run.window_end - run.window_start
    previous_params = {**params, "window_start": run.window_start - length, "window_end": run.window_start}
    snapshot, previous = run_dir / SNAPSHOT_FILE, run_dir / PREVIOUS_FILE
    with WRITE_LOCK, store.connect() as connection:
        connection.execute(redact.sql_macro())
        written = write_snapshot(connection, params, snapshot)
        if written.window_spans == 0:
            covered = connection.execute(sql_text("runs/agent_range.sql"), {"agent_uuid": run.agent_uuid}).fetchall()[0]
            raise Stopped("no_traces", no_traces_message(run, covered[1], covered[2]))
        previous_written = write_snapshot(connection, previous_params, previous, comparison_only=True)
    window_spans, window_traces = written.window_spans, written.window_traces
    cluster = source_overview(run_dir) if run.source else None
    if cluster is not None:  # the window as the cluster counts it, not the fetched (capped) selection
        window_spans, window_traces = cluster["totals"]["spans"], cluster["totals"]["traces"]
    dataset = Dataset(snapshot, previous if previous_written.spans else None, written.spans, written.traces,
                      window_spans, window_traces, previous_written.spans)
    with control.writing() as connection:
        connection.execute(sql_text("runs/save_dataset.sql"), {
            "run_id": control.run_id, "snapshot_spans": dataset.snapshot_spans,
            "snapshot_traces": dataset.snapshot_traces, "window_spans": dataset.window_spans,
            "window_traces": dataset.window_traces, "snapshot_truncated": dataset.truncated,
            "previous_spans": dataset.previous_spans,
        })
    return dataset


@dataclass(frozen=True)
class _Written:
    """What one snapshot file holds, and what its window held before the span limit."""

    window_spans: int
    window_traces: int
    spans: int
    traces: int


def write_snapshot(connection: duckdb.DuckDBPyConnection, params: Mapping[str, Any], path: Path, *,
                   comparison_only: bool = False) -> _Written:
    """Write the window's kept spans (runs/snapshot_counts.sql says which) to `path`, redacted; an
    empty window writes nothing.

    One query, unordered, that DuckDB redacts and writes on every thread as it scans: sorting the full
    rows spilled under the store's memory limit, sorting them a chunk at a time left the redaction on
    one thread, and keeping the store's order spilled the rows waiting their turn; nothing that reads a
    snapshot depends on its order. Only a first trace larger than the limit has its keys sorted, to keep
    its earliest spans.
    `comparison_only` (the previous window) writes only the columns the detectors compare with: a
    previous window of 1M spans cost 7.2-7.6 CPU-s whole, 0.9 so."""
    window = {key: params[key] for key in ("agent_uuid", "window_start", "window_end")}
    limit = {"span_limit": params["span_limit"]}
    partial = path.with_suffix(".parquet.partial")
    try:
        connection.execute(sql_text("runs/snapshot_traces.sql"), window)
        window_spans, window_traces, spans, traces = connection.execute(
            sql_text("runs/snapshot_counts.sql"), limit).fetchall()[0]
        if not window_spans:
            return _Written(0, 0, 0, 0)
        if spans == window_spans:
            kept = "window"
        elif traces:
            kept = "traces"
        else:
            kept = "keys"
            connection.execute(sql_text("runs/snapshot_keys.sql"), {**window, **limit})
            spans, traces = params["span_limit"], 1
        copy = sql_template("runs/snapshot.sql", kept=kept, comparison_only=comparison_only)
        copy_params = {**window, "secret_rules": redact.rules_fingerprint(), "path": str(partial)}
        connection.execute(copy, {**copy_params, **limit} if kept == "traces" else copy_params)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        connection.execute("DROP TABLE IF EXISTS halo_snapshot_keys; DROP TABLE IF EXISTS halo_snapshot_traces")
    partial.replace(path)  # atomically: a reader never sees half a file
    return _Written(int(window_spans), int(window_traces), int(spans), int(traces))


def no_traces_message(run: RunRecord, first: datetime | None, last: datetime | None) -> str:
    """Why a window was empty, what range the agent's stored spans cover, and the flags that reach it."""
    who = run.agent_name or run.agent_uuid
    empty = f"no spans of agent {who} between {iso(run.window_start)} and {iso(run.window_end)}"
    if first is None or last is None:
        return f"{empty}, and none are stored for it at all; load its traces with `halo-local traces load PATH`"
    start = first.replace(microsecond=0)
    end = last.replace(microsecond=0) + timedelta(seconds=1)
    hours = max(1, math.ceil((utc_now() - start).total_seconds() / 3600))
    return (f"{empty}; its stored spans cover {iso(first.replace(microsecond=0))} .. {iso(last.replace(microsecond=0))}. "
            f"Reach them with --window-start-at {iso(start)} --window-end-at {iso(end)} "
            f"(or --lookback-hours {hours})")


@contextmanager
def snapshot_connection(control: RunControl, dataset: Dataset) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB with views `window_spans` / `previous_spans` over the run's Parquet files.

    Bounded like the store's connections (and spilling under $HALO_HOME/tmp): unbounded, the detectors'
    tables over a 1M-span window took the run past 1.1 GB of RSS; at 600MB they cost 10% more CPU."""
    connection = duckdb.connect(config={"memory_limit": os.environ.get(MEMORY_LIMIT_ENV, DEFAULT_MEMORY_LIMIT),
                                        "temp_directory": str(control.store.home / "tmp")})
    try:
        connection.read_parquet(str(dataset.snapshot)).create_view("window_spans")
        if dataset.previous is not None:
            connection.read_parquet(str(dataset.previous)).create_view("previous_spans")
        control.active_connection = connection
        yield connection
    finally:
        control.active_connection = None
        connection.close()


def snapshot_reader(connection: duckdb.DuckDBPyConnection, dataset: Dataset) -> duckdb.DuckDBPyConnection:
    """A second connection to `snapshot_connection`'s database with its own view `window_spans` (views
    are per connection), for work that reads the snapshot in another thread; the caller closes it."""
    reader = connection.cursor()
    reader.read_parquet(str(dataset.snapshot)).create_view("window_spans")
    return reader
