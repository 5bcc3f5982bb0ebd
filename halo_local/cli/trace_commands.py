"""`traces load`, `agent list`, `trace list|get`, `span list|get`: loading and inspecting stored spans."""

from __future__ import annotations

import json
from typing import Any

from halo_local import render, traces
from halo_local.cli.output import Output, default_store, progress_printer
from halo_local.cli.text import empty_range_message
from halo_local.cli.zone import shown_time
from halo_local.errors import UsageError
from halo_local.flags import parse_bool, parse_int, parse_text
from halo_local.ids import full_id
from halo_local.sources.inspect import get_source_span, get_source_trace, list_source_traces
from halo_local.sources.named import resolve_source


class TracesCommands:
    """Load trace exports (OTLP/JSON, JSON Lines of it, OTLP protobuf, HALO's flat JSONL; .gz and .zst too)."""

    def load(self, *paths: str, format: str = "auto", skip_invalid: bool = False) -> Output:
        """Load files, directories (recursively) and globs into the local database."""
        if not paths:
            raise UsageError("traces load needs at least one PATH (file, directory or glob)")
        from halo_local.ingest import load_paths  # pyarrow: not at CLI start-up
        from halo_local.ingest.readers import SUPPORTED_FORMATS

        chosen = str(format)
        if chosen != "auto" and chosen not in SUPPORTED_FORMATS:
            raise UsageError(f"--format must be auto or one of {', '.join(SUPPORTED_FORMATS)}; got {chosen!r}")
        summary = load_paths(
            default_store(), [str(p) for p in paths], format=chosen,
            skip_invalid=parse_bool(skip_invalid, "--skip-invalid"), progress=progress_printer(),
        )
        data = summary.to_json()
        not_traces = f", {data['filesNotTraces']} not traces" if data["filesNotTraces"] else ""
        lines = [
            f"Files: {data['files']} ({data['filesLoaded']} loaded, {data['filesUnchanged']} unchanged{not_traces})",
            f"Spans: {data['spansNew']:,} new, {data['duplicates']:,} duplicates, {data['skipped']:,} skipped",
            f"Traces: {data['traces']:,}   Agents: {data['agents']:,}",
            f"Time range: {shown_time(data['timeRange']['start'])} .. {shown_time(data['timeRange']['end'])}",
        ]
        for detail in data["details"]:
            if detail["status"] == "not_traces":
                lines.append(f"  left alone {detail['path']}: not trace data")
            elif detail["status"] == "loaded" and detail["readFromLine"] > 1:
                lines.append(f"  read {detail['path']} from line {detail['readFromLine']:,} on: it grew, the lines"
                             " before are loaded and unchanged")
            elif detail["status"] == "loaded" and not detail["spansRead"] and not detail["skipped"]:
                lines.append(f"  no spans in {detail['path']}")
            for skipped in detail["firstSkipped"]:
                lines.append(f"  skipped {detail['path']}:{skipped['line']}: {skipped['reason']}")
        return Output(data, "\n".join(lines))


class AgentCommands:
    """Agents found in the stored traces."""

    def list(self, time_range: str = "30d", source: str | None = None) -> Output:
        """Agents with spans in the time range (1h 6h 12h 1d 3d 7d 14d 30d 90d all); --source reads a
        ClickHouse source (URL or `sources add` name) instead of the local store."""
        store = default_store()
        if source is not None:
            remote = resolve_source(store, str(parse_text(source)))
            agents = remote.agents(traces.since_for(str(time_range)))
        else:
            agents = traces.list_agents(store, time_range=str(time_range))
        text = render.table(
            agents,
            [("agentUuid", "AGENT UUID"), ("name", "NAME"), ("serviceName", "SERVICE"),
             ("traceCount", "TRACES", render.count), ("spanCount", "SPANS", render.count),
             ("errorCount", "ERRORS", render.count), ("firstSeenAt", "FIRST SEEN", shown_time),
             ("lastSeenAt", "LAST SEEN", shown_time)],
            empty=empty_range_message(store, str(time_range)),
        )
        return Output(agents, text)


class TraceCommands:
    """Stored traces."""

    def list(self, agent: str | None = None, time_range: str = "30d", errors_only: bool = False,
             limit: int = 50, source: str | None = None) -> Output:
        """Traces newest first; --agent takes a UUID or name, --errors-only keeps failing traces, --source
        reads a ClickHouse source (URL or `sources add` name)."""
        store = default_store()
        options: dict[str, Any] = {"agent": parse_text(agent), "time_range": str(time_range),
                   "errors_only": parse_bool(errors_only, "--errors-only"), "limit": parse_int(limit, "--limit", 1)}
        if source is not None:
            rows = list_source_traces(resolve_source(store, str(parse_text(source))), **options)
        else:
            rows = traces.list_traces(store, **options)
        text = render.table(
            rows,
            [("traceId", "TRACE ID"), ("rootName", "ROOT"), ("agentName", "AGENT"),
             ("startTime", "STARTED", shown_time), ("durationMs", "DURATION", render.duration),
             ("spanCount", "SPANS", render.count), ("errorCount", "ERRORS", render.count),
             ("costUsd", "COST", render.usd)],
            empty=empty_range_message(store, str(time_range)),
        )
        return Output(rows, text)

    def get(self, trace_id: str, errors_only: bool = False, source: str | None = None) -> Output:
        """One trace as an indented tree: durations, status, model, tokens, cost, tool calls, errors.

        Tool calls show their arguments and result, cut to one line; --errors-only keeps the failing
        spans and the path from the root to each; --source reads the trace from a ClickHouse source.
        """
        store = default_store()
        if source is not None:
            found = get_source_trace(resolve_source(store, str(parse_text(source))), str(trace_id))
        else:
            with store.held_open():  # the id's lookup and the trace: one opening of the database
                found = traces.get_trace(store, full_id(store, "trace", trace_id))
        tree = render.trace_tree(found["spans"], errors_only=parse_bool(errors_only, "--errors-only"))
        return Output(found, f"Trace {found['traceId']} ({found['spanCount']} spans)\n" + tree)


class SpanCommands:
    """Stored spans."""

    def list(self, trace_id: str | None = None, agent: str | None = None, type: str | None = None,
             name: str | None = None, time_range: str = "all", errors_only: bool = False,
             limit: int = 100) -> Output:
        """Spans newest first, filtered by trace, agent, type, name, time range or errors."""
        store = default_store()
        rows = traces.list_spans(
            store, trace_id=None if trace_id is None else full_id(store, "trace", trace_id), agent=parse_text(agent),
            span_type=parse_text(type), name=parse_text(name), time_range=str(time_range),
            errors_only=parse_bool(errors_only, "--errors-only"), limit=parse_int(limit, "--limit", 1),
        )
        text = render.table(
            rows,
            [("spanId", "SPAN ID"), ("traceId", "TRACE ID"), ("name", "NAME"), ("spanType", "TYPE"),
             ("startTime", "STARTED", shown_time), ("durationMs", "DURATION", render.duration),
             ("statusCode", "STATUS"), ("model", "MODEL"), ("toolName", "TOOL")],
            empty=empty_range_message(store, str(time_range)),
        )
        return Output(rows, text)

    def get(self, span_id: str, trace_id: str | None = None, source: str | None = None) -> Output:
        """Every stored column of one span, raw attributes included (--source: from a ClickHouse source)."""
        store = default_store()
        if source is not None:
            span = get_source_span(resolve_source(store, str(parse_text(source))), str(span_id),
                                   trace_id=parse_text(trace_id))
        else:
            with store.held_open():  # the ids' lookups and the span: one opening of the database
                in_trace = None if trace_id is None else full_id(store, "trace", trace_id)
                span = traces.get_span(store, full_id(store, "span", span_id), trace_id=in_trace)
        pairs = [(key, json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else value)
                 for key, value in span.items()]
        return Output(span, render.key_values(pairs))
