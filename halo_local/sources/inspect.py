"""`trace list|get` and `span get` over a ClickHouse source: the cluster picks whole traces, halo-local
normalizes them into a throwaway store and answers with the same code as for local spans, so both
sources print the same rows. Nothing is kept locally and nothing is written to ClickHouse."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from halo_local import traces
from halo_local.errors import NotFoundError
from halo_local.sources.clickhouse import ClickHouseSource
from halo_local.sources.snapshot import store_selection
from halo_local.store import Store

if TYPE_CHECKING:
    import pyarrow as pa

# Spans fetched for one `trace list|get` / `span get`: past it the URL's row cap would refuse anyway.
INSPECT_SPAN_LIMIT = 200_000


@contextmanager
def _scratch_store(source: ClickHouseSource, selection: pa.Table) -> Iterator[Store]:
    with tempfile.TemporaryDirectory(prefix="halo-source-") as folder:
        store = Store(Path(folder))
        store_selection(store, selection, source=str(source.url))
        yield store


def list_source_traces(source: ClickHouseSource, *, agent: str | None, time_range: str, errors_only: bool,
                       limit: int) -> list[dict[str, Any]]:
    """`trace list` over the source: its newest `limit` traces in the range (of `agent`: UUID or name)."""
    since = traces.since_for(time_range)
    wanted = traces.resolve_agent(source.agents(since), agent)["agentUuid"] if agent is not None else None
    selection = source.recent_traces(wanted, since, errors_only=errors_only, trace_limit=limit,
                                     span_limit=INSPECT_SPAN_LIMIT)
    with _scratch_store(source, selection) as store:
        return traces.list_traces(store, agent=wanted, time_range="all", errors_only=errors_only, limit=limit)


def get_source_trace(source: ClickHouseSource, trace_id: str) -> dict[str, Any]:
    """`trace get` over the source."""
    wanted = str(trace_id).strip().lower()
    selection = source.trace_spans(trace_id=wanted, span_id=None, span_limit=INSPECT_SPAN_LIMIT)
    if selection.num_rows == 0:
        raise NotFoundError(f"no trace with id {wanted!r} in {source.url.redacted()}",
                            hint="`halo-local trace list --source SOURCE --time-range all` lists its traces")
    with _scratch_store(source, selection) as store:
        return traces.get_trace(store, wanted)


def get_source_span(source: ClickHouseSource, span_id: str, *, trace_id: str | None) -> dict[str, Any]:
    """`span get` over the source (the span's whole trace is fetched and normalized)."""
    wanted = str(span_id).strip().lower()
    in_trace = str(trace_id).strip().lower() if trace_id else None
    selection = source.trace_spans(trace_id=in_trace, span_id=wanted, span_limit=INSPECT_SPAN_LIMIT)
    if selection.num_rows == 0:
        raise NotFoundError(f"no span with id {wanted!r} in {source.url.redacted()}",
                            hint="`halo-local trace get TRACE_ID --source SOURCE` shows a trace's spans")
    with _scratch_store(source, selection) as store:
        return traces.get_span(store, wanted, trace_id=in_trace)
