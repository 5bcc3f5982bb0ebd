"""The command tree fire walks (`HaloLocalCli`), with the top-level commands: home, query, mcp, serve, analyze."""

from __future__ import annotations

import sys

from halo_local import prune, runs, traces, untrusted, usecases
from halo_local.cli.conversation_commands import ConversationCommands, ModelCommands
from halo_local.cli.help import real_defaults
from halo_local.cli.output import EXIT_OK, JSON_MODE, Output, default_store, print_event
from halo_local.cli.output_file import write_output
from halo_local.cli.run_commands import RunCommands
from halo_local.cli.schedule_commands import ScheduleCommands
from halo_local.cli.source_commands import SourceCommands
from halo_local.cli.text import run_text
from halo_local.cli.trace_commands import AgentCommands, SpanCommands, TraceCommands, TracesCommands
from halo_local.errors import UsageError
from halo_local.flags import parse_bool, parse_int, parse_text
from halo_local.llm.models import default_model_id
from halo_local.resources import resource_dir
from halo_local.sandbox_process import DEFAULT_MEMORY_LIMIT, MEMORY_LIMIT_ENV, memory_limit_bytes
from halo_local.sources.named import resolve_source


class HaloLocalCli:
    """halo-local: analyze LLM-agent OpenTelemetry traces locally. Add --json to any command."""

    def __init__(self) -> None:
        self.traces = TracesCommands()
        self.agent = AgentCommands()
        self.trace = TraceCommands()
        self.span = SpanCommands()
        self.run = RunCommands()
        self.conversation = ConversationCommands()
        self.model = ModelCommands()
        self.schedule = ScheduleCommands()
        self.sources = SourceCommands()

    def home(self) -> Output:
        """Where halo-local keeps its database and run files ($HALO_HOME)."""
        store = default_store()
        data = {"home": str(store.home), "database": str(store.db_path)}
        return Output(data, str(store.home))

    @real_defaults(memory_limit=f"${MEMORY_LIMIT_ENV} or {DEFAULT_MEMORY_LIMIT}")
    def query(self, sql: str, limit: int = 200, memory_limit: str | None = None) -> Output:
        """Read-only SQL over the stored spans (the table `spans`).

        Runs the SQL a report's "How to reproduce" gives, or any other: one SELECT-like statement (WITH,
        DESCRIBE, SUMMARIZE, EXPLAIN); anything that writes is refused. At most --limit rows are shown;
        `truncated` (--json) says when the query returned more. --memory-limit (e.g. 512MB, 2GB; default
        $HALO_SANDBOX_MEMORY_LIMIT or 1GB) bounds the memory the query may use beyond the loaded spans.
        """
        memory = None if memory_limit is None else memory_limit_bytes(str(memory_limit), "--memory-limit")
        result = traces.query_spans(default_store(), str(sql), max_rows=parse_int(limit, "--limit", 1), memory_limit=memory)
        return Output(result.to_json(), result.to_text())

    def prune(self, older_than: str = "30d", dry_run: bool = False) -> Output:
        """Remove spans that ended more than --older-than ago (12h, 30d, 2w) and finished runs' files.

        Run rows and conversations stay; each old finished run loses its folder (snapshot, report files,
        worker log). --dry-run only says what would go.
        """
        dry = parse_bool(dry_run, "--dry-run")
        freed = prune.prune(default_store(), prune.parse_age(older_than), dry_run=dry)
        verb = "Would remove" if dry else "Removed"
        text = (f"{verb} {freed['spans']:,} spans ({freed['traces']:,} traces) that ended before {freed['cutoff']}"
                f" and the files of {freed['runFolders']:,} finished runs ({freed['runFileBytes']:,} bytes).")
        if not dry:
            shrunk = max(0, freed["databaseBytesBefore"] - freed["databaseBytesAfter"])
            text += (f"\nDatabase: {freed['databaseBytesBefore']:,} -> {freed['databaseBytesAfter']:,} bytes;"
                     f" freed {freed['runFileBytes'] + shrunk:,} bytes in all.")
        return Output(freed, text)

    def mcp(self) -> Output:
        """Serve this $HALO_HOME to coding assistants (Claude Code, Cursor) as an MCP server over stdio.

        Register the command `halo-local mcp` in the assistant's MCP settings; it serves until stdin closes.
        Started by hand on a terminal, it says on stderr that it is waiting for a client.
        """
        from halo_local import mcp_server  # the MCP SDK is heavy: only this command loads it

        if sys.stdin.isatty():
            sys.stderr.write("halo-local mcp is waiting for an MCP client on stdin (JSON-RPC): register the command"
                             " `halo-local mcp` in your assistant's MCP settings instead; Ctrl-C stops it.\n")
            sys.stderr.flush()
        mcp_server.serve(default_store())
        return Output(None, "")

    def serve(self, host: str = "127.0.0.1", port: int = 4318, token: str | None = None,
              max_body: int = 8 << 20, max_backlog: int = 512 << 20) -> Output:
        """Receive traces over OTLP/HTTP (POST /v1/traces, protobuf or JSON, gzip) and store them.

        Set OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 in the agent. Acknowledged spans are kept in a
        spool under $HALO_HOME until stored (within seconds). A host other than loopback needs --token
        (requests then carry 'Authorization: Bearer TOKEN'); --port 0 picks a free port. Ctrl-C or SIGTERM stops.
        """
        from halo_local.serve import command, receiver  # its OTLP protobuf decoding loads in ~0.1 s: only here

        options = receiver.ReceiverOptions(
            host=parse_text(host) or "127.0.0.1", port=parse_int(port, "--port", 0, 65535), token=parse_text(token),
            max_body=parse_int(max_body, "--max-body", 1), max_backlog=parse_int(max_backlog, "--max-backlog", 1))
        data, text = command.serve(default_store(), options, json_mode=JSON_MODE.get())
        return Output(data, text)

    @real_defaults(agent_uuid="the busiest agent in the files", prompt="the built-in analysis prompt",
                   model_id=default_model_id())
    def analyze(self, *paths: str, agent_uuid: str | None = None, prompt: str | None = None,
                model_id: str | None = None, no_llm: bool = False, skip_invalid: bool = False,
                output: str | None = None, source: str | None = None, agent_time_range: str = "all") -> Output:
        """Load trace files (default: the bundled sample traces) and print a full analysis report.

        Analyses the busiest agent in the files (or --agent-uuid) over the files' own time range;
        heuristics-only without ANTHROPIC_API_KEY or with --no-llm. --skip-invalid loads the good
        records of a damaged file, as `traces load` does. Exit codes are those of `run poll`
        (6 no_traces also when the files hold no spans). Only the report goes to stdout (or to
        --output FILE); notes such as other agents in the files go to stderr. --source reads a ClickHouse
        source (URL or `sources add` name) instead of files: its busiest agent in --agent-time-range.
        """
        on_event = print_event if sys.stderr.isatty() else None
        if source is not None:
            if paths:
                raise UsageError("analyze takes trace files or --source, not both")
            store = default_store()
            result = usecases.analyze_source(
                store, resolve_source(store, str(parse_text(source))), agent_uuid=parse_text(agent_uuid),
                time_range=str(agent_time_range), prompt=parse_text(prompt), model_id=parse_text(model_id),
                no_llm=parse_bool(no_llm, "--no-llm"), on_event=on_event,
            )
        else:
            sources = [str(path) for path in paths] or [str(resource_dir("sample_traces"))]
            result = usecases.analyze_paths(
                default_store(), sources, agent_uuid=parse_text(agent_uuid), prompt=parse_text(prompt),
                model_id=parse_text(model_id), no_llm=parse_bool(no_llm, "--no-llm"),
                skip_invalid=parse_bool(skip_invalid, "--skip-invalid"), on_event=on_event,
            )
        from halo_local.ingest import describe_skipped  # pyarrow: not at CLI start-up

        for entry in result.skipped:
            sys.stderr.write(f"Warning: {untrusted.terminal_line(describe_skipped(entry))}\n")
        if result.other_agents:
            names = ", ".join(f"{item['name'] or '-'} ({item['agentUuid']})" for item in result.other_agents)
            where = "this source" if source is not None else "these files"
            sys.stderr.write(untrusted.terminal_line(f"Also in {where} (analyse with --agent-uuid): {names}") + "\n")
        text = result.report or run_text(result.run)
        done = Output(result.to_json(), text.rstrip("\n"), runs.POLL_EXIT_CODES.get(result.run.status, EXIT_OK))
        return write_output(done, output, has_report=bool(result.report))
