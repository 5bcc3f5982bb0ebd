"""The tools `halo-local mcp` serves: thin wrappers over the Python API the CLI calls, returning its JSON.

Errors become MCP tool errors whose text is the message and hint the CLI would print. The read-only SQL
tools share one in-memory `SpanSandbox`, kept only while the database file is unchanged.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import anyio
import anyio.to_thread
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, ContentBlock, TextContent
from pydantic import Field

from halo_local import runs, traces, usecases
from halo_local.errors import HaloLocalError, NotFoundError, UsageError
from halo_local.redact import redact, redact_value
from halo_local.sandbox import SpanSandbox
from halo_local.sandbox_text import MAX_CELL_CHARS, cell_text, json_value
from halo_local.store import Store

log = logging.getLogger("halo_local.mcp")

QUERY_MAX_ROWS = 200
QUERY_MAX_CHARS = 20000
LIST_MAX_ITEMS = 100
POLL_FIRST_SECONDS = 0.1
POLL_MAX_SECONDS = 1.0
_LOOKBACK = runs.RunOptions.BOUNDS["lookback_hours"]
CANCEL_REASON = "the MCP client cancelled the tool call"
_CLOSE_RETRY_SECONDS = 0.05  # how often close() stops the query again while a call holds the sandbox

_P = ParamSpec("_P")
_T = TypeVar("_T")


def error_text(error: HaloLocalError) -> str:
    """The message and hint exactly as the CLI prints them, for the assistant to act on."""
    return error.message + (f"\nHint: {error.hint}" if error.hint else "")


def _json_text(document: Any) -> str:
    """The document as the CLI's --json prints it."""
    return json.dumps(document, ensure_ascii=False, default=str)


def _reported(tool: Callable[_P, Awaitable[_T]]) -> Callable[_P, Awaitable[_T]]:
    """Turn every failure into a tool error with a clear message; the server itself never falls over."""

    @functools.wraps(tool)
    async def call(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        try:
            return await tool(*args, **kwargs)
        except ToolError:
            raise
        except HaloLocalError as error:
            raise ToolError(error_text(error)) from error
        except Exception as error:  # a bug must cost one call, not the session
            log.exception("tool %s failed unexpectedly", tool.__name__)
            raise ToolError(f"internal error ({type(error).__name__}): {error}") from error

    return call


async def _blocking(function: Callable[..., _T], /, *args: Any, **kwargs: Any) -> _T:
    """Run a (database-touching) API call on a worker thread so the event loop keeps serving."""
    return await anyio.to_thread.run_sync(functools.partial(function, *args, **kwargs))


def _file_signature(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


class SandboxCache:
    """One `SpanSandbox` over the database's spans, rebuilt whenever the database file changes.

    The signature is read before copying, so a write that lands during the copy changes it again
    and the next call rebuilds: the cache can cost an extra copy, never a stale answer. Calls are
    serialised (the sandbox serialises its queries anyway), so a sandbox is never closed mid-query.
    """

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self._lock = threading.Lock()
        self._sandbox: SpanSandbox | None = None
        self._signature: tuple[Any, ...] | None = None
        self.builds = 0

    def _current_signature(self) -> tuple[Any, ...]:
        wal = self.db_path.with_name(self.db_path.name + ".wal")
        return _file_signature(self.db_path), _file_signature(wal)

    @contextmanager
    def sandbox(self) -> Iterator[SpanSandbox]:
        with self._lock:
            signature = self._current_signature()
            if self._sandbox is None or signature != self._signature:
                self._drop()
                self._sandbox = SpanSandbox.from_database(self.db_path)
                self._signature = signature
                self.builds += 1
            yield self._sandbox

    def _drop(self) -> None:
        if self._sandbox is not None:
            self._sandbox.close()
        self._sandbox, self._signature = None, None

    def close(self) -> None:
        """At shutdown: a query still running holds the lock to its end (up to the time limit), so it
        is stopped first, and the server exits as soon as the client closes stdin. Stopped again until
        the lock is free: an interrupt that lands after a call took the lock but before its query was
        sent is lost (the sandbox clears it as each query starts)."""
        while True:
            running = self._sandbox
            if running is not None:
                running.interrupt()
            if self._lock.acquire(timeout=_CLOSE_RETRY_SECONDS):
                break
        try:
            self._drop()
        finally:
            self._lock.release()


def _capped_cell(value: Any) -> Any:
    """A result cell as JSON, secrets redacted, then long text cut like the sandbox's text tables.

    Redacting first matters: a secret cut in half no longer looks like one and would leak its start.
    """
    plain = redact_value(json_value(value))
    if isinstance(plain, str) and len(plain) > MAX_CELL_CHARS:
        plain = cell_text(plain)
    elif isinstance(plain, (list, dict)) and len(json.dumps(plain, ensure_ascii=False)) > MAX_CELL_CHARS:
        plain = cell_text(plain)
    return plain


def _rows_within(rows: list[list[Any]], max_chars: int) -> list[list[Any]]:
    """The leading rows whose JSON fits in `max_chars` (quotes and escapes counted, as the client gets them)."""
    kept: list[list[Any]] = []
    used = 0
    for row in rows:
        used += len(_json_text(row)) + 2
        if used > max_chars:
            break
        kept.append(row)
    return kept


def _checked_limit(limit: int) -> int:
    """`limit` if it is at least 1; the schema's minimum is advice a model may not follow."""
    if isinstance(limit, bool) or limit < 1:
        raise UsageError(f"limit must be at least 1; got {limit!r}")
    return limit


def _listed(items: list[dict[str, Any]], note: str | None) -> CallToolResult:
    """A list document as the CLI prints it, and a second text block saying what was left out."""
    content: list[ContentBlock] = [TextContent(type="text", text=_json_text(items))]
    if note:
        content.append(TextContent(type="text", text=note))
    return CallToolResult(content=content)


class HaloTools:
    """The MCP tools over one `$HALO_HOME`; each call opens the database briefly or not at all."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.sandboxes = SandboxCache(store.db_path)

    # -- conversations -------------------------------------------------------------------------

    @_reported
    async def list_halo_conversations(
        self,
        limit: Annotated[int, Field(description=f"at most this many conversations (1 to {LIST_MAX_ITEMS})",
                                    json_schema_extra={"minimum": 1, "maximum": LIST_MAX_ITEMS})] = 50,
    ) -> CallToolResult:
        """List the halo-local conversations, newest first (the same JSON as `halo-local conversation list --json`).

        Each item has conversationId, title (agent and analysed window), status (of its analysis run),
        messageCount and createdAt. Read one with get_halo_conversation. When more conversations exist
        than are listed, a second text block says so.
        """
        shown = min(_checked_limit(limit), LIST_MAX_ITEMS)
        found = await _blocking(usecases.list_conversations, self.store, limit=shown + 1)
        note = None
        if len(found) > shown:
            note = (f"Only the {shown} newest conversations are listed; older ones exist. "
                    + (f"Pass a larger limit (at most {LIST_MAX_ITEMS})." if shown < LIST_MAX_ITEMS else
                       "`halo-local conversation list --limit N` in a shell lists them all."))
        return _listed(found[:shown], note)

    @_reported
    async def get_halo_conversation(
        self,
        conversation_id: Annotated[str, Field(description="a conversationId such as conv_0eb821d469a7")],
    ) -> str:
        """Get one conversation in full (the same JSON as `halo-local conversation get ID --json`).

        `messages` holds every message in order (role, content, runId, createdAt): the first assistant
        message is the analysis report, a markdown brief with the ranked findings, their evidence (trace
        and span ids) and suggested fixes; later pairs are follow-up questions and answers. `run` is the
        analysis run (status, findings, options), `traceDataset` the spans it analysed.
        """
        return _json_text(redact_value(await _blocking(usecases.get_conversation, self.store, conversation_id)))

    @_reported
    async def ask_followup(
        self,
        conversation_id: Annotated[str, Field(description="the conversation whose report the question is about")],
        question: Annotated[str, Field(description="the question, in plain words")],
        ctx: Context,
    ) -> CallToolResult:
        """Ask a follow-up question about a conversation's report and wait for the answer.

        Answered from the report, the findings and the run's span snapshot (by the LLM when
        ANTHROPIC_API_KEY is set for the server, otherwise by quoting the matching findings). The
        question and answer are added to the conversation. Returns the same JSON as `halo-local
        conversation ask --json`: conversationId, runId, status, statusReason, answer, run. The result
        is an error when the follow-up run did not complete.
        """
        run_id = await _blocking(runs.create_followup_run, self.store, conversation_id.strip(), question)
        await _blocking(runs.start_worker, self.store, run_id)
        run = await self._wait_for_run(run_id, ctx)
        answer = await self._assistant_message(run.conversation_id, run_id)
        return _run_result(run, usecases.FollowupAnswer(run, answer).to_json())

    # -- agents and runs -----------------------------------------------------------------------

    @_reported
    async def list_agents(
        self,
        time_range: Annotated[str, Field(description="only agents with spans in this range back from now; "
                                                    "'all' for every stored agent",
                                         json_schema_extra={"enum": list(traces.TIME_RANGES)})] = "30d",
        limit: Annotated[int, Field(description=f"at most this many agents, most recently active first "
                                                f"(1 to {LIST_MAX_ITEMS})",
                                    json_schema_extra={"minimum": 1, "maximum": LIST_MAX_ITEMS})] = 50,
    ) -> CallToolResult:
        """List the agents found in the stored traces (the same JSON as `halo-local agent list --json`).

        Each item has agentUuid (what create_run takes), name, serviceName, traceCount, spanCount,
        errorCount, firstSeenAt and lastSeenAt (UTC), most recently active first. An empty list means
        nothing in the range: try "all". When more agents exist than are listed, a second text block says so.
        """
        shown = min(_checked_limit(limit), LIST_MAX_ITEMS)
        found = await _blocking(traces.list_agents, self.store, time_range=time_range)
        note = None
        if len(found) > shown:
            note = (f"Only the {shown} most recently active of {len(found)} agents are listed. To see others, pass "
                    + (f"a larger limit (at most {LIST_MAX_ITEMS}), " if shown < LIST_MAX_ITEMS else "")
                    + "a shorter time_range, or find one with query_spans: SELECT agent_uuid, any_value(agent_name) "
                      "AS name, count(*) AS spans FROM spans WHERE agent_name ILIKE '%...%' GROUP BY agent_uuid.")
        return _listed(found[:shown], note)

    @_reported
    async def get_run(
        self,
        run_id: Annotated[str, Field(description="a runId such as run_7a6712f85d9a")],
    ) -> str:
        """Get one analysis or follow-up run (the same JSON as `halo-local run get ID --json`).

        status (queued, running, completed, failed, cancelled, timed_out, no_traces) and statusReason,
        agent, window, options, timings, LLM usage, traceDataset (the snapshot analysed: spans, traces,
        whether the span limit cut it) and findings (ranked heuristic findings with example trace and
        span ids) with the checks that ran.
        """
        return _json_text(redact_value((await _blocking(runs.get_run, self.store, run_id)).to_json()))

    @_reported
    async def create_run(
        self,
        agent_uuid: Annotated[str, Field(description="the agent to analyse: an agentUuid from list_agents "
                                                     "(a unique agent name works too)")],
        ctx: Context,
        prompt: Annotated[str | None, Field(description="what the analysis should focus on; default: find "
                                                        "what makes the agent fail, slow or expensive")] = None,
        lookback_hours: Annotated[int | None, Field(description=f"window length in hours ({_LOOKBACK.describe()}) "
                                                                f"ending at window_end_at; default "
                                                                f"{runs.DEFAULT_LOOKBACK_HOURS}; not together with "
                                                                "window_start_at",
                                                    json_schema_extra=_LOOKBACK.json_schema())] = None,
        window_start_at: Annotated[str | None, Field(description="ISO UTC start of the window, e.g. "
                                                                 "2026-04-24T00:00:00Z; not with lookback_hours")]
        = None,
        window_end_at: Annotated[str | None, Field(description="ISO UTC end of the window; default now")] = None,
        no_llm: Annotated[bool, Field(description="true for a heuristics-only report (no Anthropic call)")] = False,
        model_id: Annotated[str | None, Field(description="Anthropic model for the LLM pass; default the "
                                                          "configured one (`halo-local model list`)")] = None,
    ) -> CallToolResult:
        """Analyse one agent's spans in a time window and wait for the run to end (like `halo-local run create --wait`).

        The window is [window_start_at, window_end_at): it ends now unless window_end_at is given and
        starts lookback_hours earlier, or at window_start_at (give one of the two). For traces that are
        not recent, pass the window around the agent's firstSeenAt..lastSeenAt from list_agents. The run snapshots
        the spans, runs the heuristics and, unless no_llm or no ANTHROPIC_API_KEY, the LLM pass (which
        can take minutes); progress is reported as it goes, and cancelling the call cancels the run.
        Returns the run document (as `halo-local run create --wait --json`; get_run adds the findings)
        plus `report`, the markdown report that is also the first assistant message of the run's
        conversation: runId, conversationId, status, statusReason, report. The result is an error when
        the run did not complete (e.g. status no_traces: no spans in the window).
        """
        created = await _blocking(
            runs.create_run, self.store, agent_uuid=agent_uuid, prompt=prompt, lookback_hours=lookback_hours,
            window_start_at=window_start_at, window_end_at=window_end_at, no_llm=no_llm, model_id=model_id,
        )
        run = await self._wait_for_run(created.run_id, ctx)
        report = await self._assistant_message(run.conversation_id, run.run_id)
        return _run_result(run, {**run.to_json(), "report": report})

    # -- spans ---------------------------------------------------------------------------------

    @_reported
    async def view_trace(
        self,
        trace_id: Annotated[str, Field(description="a 32-hex trace id, as the report and query_spans show them")],
    ) -> str:
        """Show one stored trace as an indented span tree, to check a finding's evidence.

        Every span on one line: name, type, span id, duration, status, agent, model, tokens, cost, tool,
        finish reason and error. Returns JSON {"traceId", "tree"}, plus "note" when the tree was cut
        (at 300 spans or about 20,000 characters). Read any span in full with query_spans
        (SELECT * FROM spans WHERE span_id = '...'). Text that looks like a secret shows as [REDACTED].
        """
        wanted = trace_id.strip().lower()

        def tree() -> str:
            with self.sandboxes.sandbox() as sandbox:
                try:
                    return sandbox.view_trace(wanted, max_chars=QUERY_MAX_CHARS * 10)
                except NotFoundError as error:
                    raise NotFoundError(
                        f"no trace with id {wanted!r} is stored",
                        hint="trace ids are 32 hex characters, as in the report's evidence; list some with "
                             "query_spans: SELECT trace_id, min(start_time) AS started, count(*) AS spans FROM spans "
                             "GROUP BY trace_id ORDER BY started DESC LIMIT 20",
                    ) from error

        text = redact(await _blocking(tree))  # redacted before it is cut, so no secret is left half-shown
        document: dict[str, Any] = {"traceId": wanted, "tree": text}
        if len(text) > QUERY_MAX_CHARS:
            document["tree"] = text[:text.rfind("\n", 0, QUERY_MAX_CHARS) + 1] + "(tree cut here)"
        if len(text) > QUERY_MAX_CHARS or "more spans not shown" in text:
            document["note"] = (
                "The tree was cut to fit. Read the remaining spans with query_spans: SELECT span_id, "
                "parent_span_id, name, span_type, duration_ms, status_code, error_message FROM spans "
                f"WHERE trace_id = '{wanted}' ORDER BY start_time LIMIT 100 OFFSET 100 (raise OFFSET to page).")
        return _json_text(document)

    @_reported
    async def query_spans(
        self,
        sql: Annotated[str, Field(description="one read-only DuckDB statement over the table `spans`")],
    ) -> str:
        """Run one read-only DuckDB SQL statement (SELECT, WITH, DESCRIBE, SUMMARIZE, EXPLAIN) over the stored spans.

        The table `spans` has one row per span of every loaded trace: trace_id, span_id, parent_span_id,
        name, span_type (llm, tool, agent, chain, retriever, embedding, other), start_time/end_time (UTC),
        duration_ms, status_code (unset, ok, error), status_message, agent_name, agent_uuid, session_id,
        provider, model, input_tokens (includes cache reads), output_tokens, cache_read_tokens, counts_usage
        (sum usage and cost only WHERE counts_usage), cost_usd (NULL when unpriced), tool_name,
        tool_arguments, tool_result, finish_reason, error_type, error_message, input_text, output_text and
        attributes/resource_attributes/events as JSON (attributes->>'gen_ai.request.model'); DESCRIBE spans
        lists all. Same sandbox as the LLM pass: no file or network access, nothing is written, 10 s per
        query, at most 200 rows and about 20,000 characters (long cells cut), secrets shown as [REDACTED].
        Returns JSON {"columns", "rows", "rowCount", "truncated"}, plus "note" saying how to get the rest
        when truncated (select fewer columns, filter, aggregate, or page with LIMIT/OFFSET).
        """
        def run_query() -> dict[str, Any]:
            with self.sandboxes.sandbox() as sandbox:
                result = sandbox.query(sql, max_rows=QUERY_MAX_ROWS, max_chars=QUERY_MAX_CHARS)
            rows = [[_capped_cell(value) for value in row] for row in result.rows]
            kept = _rows_within(rows, QUERY_MAX_CHARS)
            document: dict[str, Any] = {"columns": list(result.columns), "rows": kept, "rowCount": len(kept),
                                        "truncated": result.truncated or len(kept) < len(rows)}
            if document["truncated"]:
                document["note"] = _truncation_note(len(kept))
            return document

        return _json_text(await _blocking(run_query))

    # -- helpers -------------------------------------------------------------------------------

    async def _wait_for_run(self, run_id: str, ctx: Context) -> runs.RunDocument:
        """Poll the run (short connections) until it ends, forwarding its events as MCP progress.

        The run executes in a detached worker, so it survives the server; a cancelled tool call
        (the user stopped the assistant) cancels the run, as Ctrl-C does for `run create --wait`.
        """
        seen = 0
        delay = POLL_FIRST_SECONDS
        try:
            while True:
                run, events = await _blocking(self._run_and_new_events, run_id, seen)
                for event in events:
                    seen = event.seq or seen
                    await ctx.report_progress(seen, None, f"{run_id}: {event.message}")
                if run.status in runs.TERMINAL_STATES:
                    return run
                await anyio.sleep(delay)
                delay = min(delay * 2, POLL_MAX_SECONDS)
        except anyio.get_cancelled_exc_class():
            with anyio.CancelScope(shield=True):
                await _blocking(runs.cancel_run, self.store, run_id, reason=CANCEL_REASON, wait_seconds=0)
            raise

    def _run_and_new_events(self, run_id: str, after_seq: int) -> tuple[runs.RunDocument, list[runs.RunEvent]]:
        """One look at a running run: its document and the events after `after_seq`, read in one opening of
        the database (the worker writes to it between looks)."""
        with self.store.held_open():
            return (runs.get_run(self.store, run_id, include_findings=False),
                    runs.run_events(self.store, run_id, limit=10_000, after_seq=after_seq))

    async def _assistant_message(self, conversation_id: str, run_id: str) -> str | None:
        """What the run added to its conversation: the report, or a follow-up's answer."""
        found = await _blocking(usecases.get_conversation, self.store, conversation_id)
        written = [message["content"] for message in found["messages"]
                   if message["role"] == "assistant" and message["runId"] == run_id]
        return written[-1] if written else None


def _truncation_note(shown: int) -> str:
    """What a cut query result left out and how the assistant gets the rest."""
    if shown == QUERY_MAX_ROWS:
        cause = f"the query returned more than {QUERY_MAX_ROWS} rows"
    elif shown == 0:
        cause = f"not even the first row fits in about {QUERY_MAX_CHARS:,} characters"
    else:
        cause = f"only {shown} rows fit in about {QUERY_MAX_CHARS:,} characters"
    return (f"Truncated: {cause}. To see more, select fewer columns (or left(column, 300) of long text), "
            "filter with WHERE, aggregate, or page with ORDER BY ... LIMIT n OFFSET m.")


def _run_result(run: runs.RunDocument, document: dict[str, Any]) -> CallToolResult:
    """The run's JSON `document`, secrets redacted; an error result unless the run completed (as the CLI's
    exit code)."""
    return CallToolResult(content=[TextContent(type="text", text=_json_text(redact_value(document)))],
                          is_error=run.status != "completed")
