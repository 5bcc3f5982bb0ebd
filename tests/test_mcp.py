"""The MCP server: `halo-local mcp` started as a real process and driven with the SDK's own stdio client.

A module-scoped home holds HALO's realistic capture and a finished heuristics-only run. Server
processes get that home through HALO_HOME; the in-process tests (cache, output capping, crashes)
connect the SDK's client to `build_server` directly, which is much faster than a process.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import anyio
import duckdb
import pytest
from fake_anthropic import FakeAnthropic, FakeReply, text_message
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.types import CallToolResult
from runs_support import BASE, HALO_FIXTURE, HALO_WINDOW, insert_spans, span, wait_until

from halo_local import runs, traces, usecases
from halo_local.ingest import load_paths
from halo_local.mcp_server import build_server
from halo_local.mcp_tools import LIST_MAX_ITEMS, QUERY_MAX_CHARS
from halo_local.store import Store

REPO_ROOT = Path(__file__).resolve().parent.parent
DEMO_FIXTURE = HALO_FIXTURE.with_name("openai_agents_demo_traces.jsonl")
TOOL_NAMES = {"list_halo_conversations", "get_halo_conversation", "list_agents", "get_run", "create_run",
              "ask_followup", "view_trace", "query_spans"}
Scenario = Callable[[Client], Awaitable[None]]


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A home with the realistic capture loaded and analysed (heuristics only), and that run's document."""
    home = tmp_path_factory.mktemp("mcp") / "home"
    run = usecases.analyze_paths(Store(home), [HALO_FIXTURE], no_llm=True).to_json()
    assert run["status"] == "completed" and run["findingCount"] > 0
    return {"home": home, "run": run}


def serve_process(home: Path, errlog: Path, scenario: Scenario, env: Mapping[str, str] | None = None,
                  mode: str = "auto") -> None:
    """Start `halo-local mcp` on `home` as a subprocess and run `scenario` against it over stdio.

    `mode="legacy"` speaks the initialize handshake that today's assistants (Claude Code, Cursor) use.
    """
    parameters = StdioServerParameters(
        command=sys.executable, args=["-m", "halo_local.cli", "mcp"], cwd=str(REPO_ROOT),
        env={"HALO_HOME": str(home), **(env or {})},
    )

    async def main() -> None:
        with errlog.open("w") as stderr:
            async with Client(stdio_client(parameters, errlog=stderr), read_timeout_seconds=600,
                              mode=mode) as client:
                await scenario(client)

    try:
        anyio.run(main)
    except BaseException:
        print("server stderr:\n" + errlog.read_text(encoding="utf-8", errors="replace"))
        raise


def serve_in_process(store: Store, scenario: Callable[[Client, Any], Awaitable[None]]) -> None:
    """Run `scenario` against `build_server(store)` connected in-process; it also gets the tools object."""
    server, tools = build_server(store)

    async def main() -> None:
        async with Client(server) as client:
            await scenario(client, tools)

    try:
        anyio.run(main)
    finally:
        tools.sandboxes.close()


def text_of(result: CallToolResult) -> str:
    assert len(result.content) == 1 and result.content[0].type == "text"
    return result.content[0].text


def document(result: CallToolResult) -> Any:
    assert not result.is_error, text_of(result)
    return json.loads(text_of(result))


def test_one_server_lists_its_tools_reads_a_real_runs_conversation_and_refuses_bad_ids(
        analysed: dict[str, Any], tmp_path: Path) -> None:
    """One server process for three scenarios on the same read-only home (each process costs ~1.5 CPU-s),
    speaking the initialize handshake that today's assistants use; the other process tests speak the default."""
    async def scenario(client: Client) -> None:
        await lists_every_tool_with_a_description_and_an_input_schema(client)
        await reads_a_real_runs_conversation_and_verifies_it_with_sql(client, analysed["home"], analysed["run"])
        await bad_ids_and_forbidden_sql_are_clean_tool_errors(client)

    serve_process(analysed["home"], tmp_path / "stderr.log", scenario, mode="legacy")


async def lists_every_tool_with_a_description_and_an_input_schema(client: Client) -> None:
    assert client.protocol_version < "2026"  # the handshake era, as assistants speak it today
    assert client.server_info is not None and client.server_info.name == "halo-local"
    assert "get_halo_conversation" in (client.instructions or "")
    listed = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(listed) == TOOL_NAMES
    for tool in listed.values():
        assert tool.description and len(tool.description) > 80, tool.name
        assert tool.input_schema["type"] == "object"
        for name, field in tool.input_schema["properties"].items():
            assert field.get("description"), f"{tool.name}.{name} has no description"
    required = {name: set(tool.input_schema.get("required", [])) for name, tool in listed.items()}
    assert required["get_halo_conversation"] == {"conversation_id"}
    assert required["create_run"] == {"agent_uuid"}
    assert required["ask_followup"] == {"conversation_id", "question"}
    assert required["query_spans"] == {"sql"} and required["view_trace"] == {"trace_id"}
    assert set(listed["create_run"].input_schema["properties"]) >= {"prompt", "lookback_hours", "no_llm"}
    time_range = listed["list_agents"].input_schema["properties"]["time_range"]
    assert time_range["enum"] == list(traces.TIME_RANGES) and time_range["default"] == "30d"
    assert listed["query_spans"].annotations is not None and listed["query_spans"].annotations.read_only_hint
    assert listed["create_run"].annotations is not None and not listed["create_run"].annotations.read_only_hint


async def reads_a_real_runs_conversation_and_verifies_it_with_sql(client: Client, home: Path,
                                                                  run: dict[str, Any]) -> None:
    report = Path(run["reportPath"]).read_text(encoding="utf-8")
    listed = document(await client.call_tool("list_halo_conversations", {"limit": 50}))
    assert run["conversationId"] in [item["conversationId"] for item in listed]

    found = document(await client.call_tool("get_halo_conversation", {"conversation_id": run["conversationId"]}))
    assert found == json.loads(json.dumps(usecases.get_conversation(Store(home), run["conversationId"])))
    first_answer = [message for message in found["messages"] if message["role"] == "assistant"][0]
    assert first_answer["content"] == report and report.startswith("# ")
    assert found["run"]["runId"] == run["runId"] and found["traceDataset"]["spans"] == 58

    # The server holds no lock between calls: this process can open the database read-write.
    duckdb.connect(str(Store(home).db_path)).close()

    fetched = document(await client.call_tool("get_run", {"run_id": run["runId"]}))
    assert fetched["status"] == "completed" and fetched["findings"]
    trace_id = fetched["findings"][0]["exampleTraceIds"][0]

    counted = document(await client.call_tool(
        "query_spans", {"sql": "SELECT count(*) AS spans, count(DISTINCT trace_id) AS traces FROM spans"}))
    assert counted == {"columns": ["spans", "traces"], "rows": [[58, 3]], "rowCount": 1, "truncated": False}
    tree = document(await client.call_tool("view_trace", {"trace_id": trace_id.upper()}))
    assert tree["traceId"] == trace_id and tree["tree"].startswith(f"trace {trace_id}: ")
    assert "tool=list_files" in tree["tree"]

    agents = document(await client.call_tool("list_agents", {"time_range": "all"}))
    assert [agent["name"] for agent in agents] == ["HaloCodeHelper"] and agents[0]["spanCount"] == 58
    duckdb.connect(str(Store(home).db_path)).close()


async def bad_ids_and_forbidden_sql_are_clean_tool_errors(client: Client) -> None:
    """Unknown ids, forbidden SQL and invalid arguments are clean tool errors; the server goes on serving."""
    missing = await client.call_tool("get_halo_conversation", {"conversation_id": "conv_doesnotexist"})
    assert missing.is_error
    assert "no conversation with id 'conv_doesnotexist'" in text_of(missing)
    assert "Hint: `halo-local conversation list`" in text_of(missing) and "Traceback" not in text_of(missing)

    for tool, arguments, expected in [
        ("get_run", {"run_id": "run_nope"}, "no run with id 'run_nope'"),
        ("view_trace", {"trace_id": "0" * 32}, f"no trace with id '{'0' * 32}'"),
        ("query_spans", {"sql": "SELECT * FROM read_csv('/etc/passwd')"}, "disabled by configuration"),
        ("query_spans", {"sql": "DELETE FROM spans"}, "DELETE statements are not allowed"),
        ("query_spans", {"sql": "SELECT 1; SELECT 2"}, "one statement at a time"),
        ("list_agents", {"time_range": "2w"}, "--time-range must be one of 1h, 6h, 12h"),
        ("ask_followup", {"conversation_id": "conv_nope", "question": "why?"}, "no conversation with id"),
    ]:
        failed = await client.call_tool(tool, arguments)
        assert failed.is_error, (tool, text_of(failed))
        assert expected in text_of(failed), (tool, text_of(failed))
        assert "root:x:" not in text_of(failed) and "Traceback" not in text_of(failed)

    for tool, arguments, expected in [
        ("get_run", {}, "- run_id: missing (it is required). Expected: a runId such as run_"),
        ("list_halo_conversations", {"limit": "ten"}, '- limit: Input should be a valid integer, unable to parse '
                                                      'string as an integer (got "ten"). Expected: at most this many'),
        ("view_trace", {"trace_id": 42}, "- trace_id: Input should be a valid string (got 42). Expected: a 32-hex"),
        ("create_run", {"no_llm": True, "lookback_hours": 1.5}, "- agent_uuid: missing (it is required)"),
    ]:
        failed = await client.call_tool(tool, arguments)
        assert failed.is_error and f"Error executing tool {tool}: invalid arguments:\n" in text_of(failed)
        assert expected in text_of(failed), (tool, text_of(failed))
        assert "pydantic" not in text_of(failed) and "Arguments" not in text_of(failed), text_of(failed)
    both = text_of(await client.call_tool("create_run", {"no_llm": True, "lookback_hours": 1.5}))
    assert "- lookback_hours: Input should be a valid integer, got a number with a fractional part (got 1.5)" in both

    unknown_trace = text_of(await client.call_tool("view_trace", {"trace_id": "nope"}))
    assert "no trace with id 'nope' is stored\nHint: trace ids are 32 hex characters" in unknown_trace
    assert "SELECT trace_id, min(start_time)" in unknown_trace

    # Still serving, and the refused statements changed nothing.
    after = document(await client.call_tool("query_spans", {"sql": "SELECT count(*) AS n FROM spans"}))
    assert after["rows"] == [[58]]


@pytest.mark.usefixtures("halo_store")
def test_invalid_arguments_get_the_clis_message_not_a_validation_dump(store: Store) -> None:
    agent_uuid = traces.list_agents(store, time_range="all")[0]["agentUuid"]

    async def scenario(client: Client, tools: Any) -> None:
        for tool, arguments, expected in [
            ("list_agents", {"time_range": "2d"},
             "--time-range must be one of 1h, 6h, 12h, 1d, 3d, 7d, 14d, 30d, 90d, all; got '2d'"),
            ("list_halo_conversations", {"limit": 0}, "limit must be at least 1; got 0"),
            ("list_agents", {"limit": -1}, "limit must be at least 1; got -1"),
            ("create_run", {"agent_uuid": agent_uuid, "lookback_hours": 0},
             "--lookback-hours takes a number from 1 to 876000; got 0"),
            ("create_run", {"agent_uuid": agent_uuid, "lookback_hours": 48, "window_start_at": HALO_WINDOW[0]},
             "--lookback-hours 48 conflicts with --window-start-at"),
            ("ask_followup", {"conversation_id": "conv_nope", "question": " "}, "the question is empty"),
            ("query_spans", {"sql": ""}, "the query is empty"),
        ]:
            failed = await client.call_tool(tool, arguments)
            assert failed.is_error, (tool, text_of(failed))
            assert expected in text_of(failed) and "validation error" not in text_of(failed), (tool, text_of(failed))
        assert runs.list_runs(store) == []

    serve_in_process(store, scenario)


def test_create_run_waits_for_the_report_and_ask_followup_answers(analysed: dict[str, Any], tmp_path: Path) -> None:
    home = analysed["home"]
    agent_uuid = analysed["run"]["agentUuid"]
    progress: list[str] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(message or "")

    async def scenario(client: Client) -> None:
        created = document(await client.call_tool("create_run", {
            "agent_uuid": agent_uuid, "no_llm": True, "window_start_at": HALO_WINDOW[0],
            "window_end_at": HALO_WINDOW[1]}, progress_callback=on_progress))
        assert created["status"] == "completed" and created["options"]["noLlm"] is True
        assert created["findingCount"] > 0 and "findings" not in created  # as `run create --wait --json`
        assert created["runId"].startswith("run_") and created["conversationId"].startswith("conv_")
        assert created["report"] == Path(created["reportPath"]).read_text(encoding="utf-8")
        assert "LLM pass skipped" in " ".join(progress) and progress[-1].endswith("completed")

        stored = usecases.get_conversation(Store(home), created["conversationId"])
        assert [message["role"] for message in stored["messages"]] == ["user", "assistant"]
        assert stored["messages"][1]["content"] == created["report"]

        answered = document(await client.call_tool("ask_followup", {
            "conversation_id": created["conversationId"], "question": "Which tool failed?"}))
        assert answered["status"] == "completed" and answered["run"]["kind"] == "followup"
        assert "list_files" in answered["answer"]
        roles = [message["role"] for message in usecases.get_conversation(
            Store(home), created["conversationId"])["messages"]]
        assert roles == ["user", "assistant", "user", "assistant"]

        empty = await client.call_tool("create_run", {"agent_uuid": agent_uuid, "no_llm": True, "lookback_hours": 1})
        assert empty.is_error
        ended = json.loads(text_of(empty))
        assert ended["status"] == "no_traces" and ended["report"] is None
        assert "2026-04-24T" in ended["statusReason"]

        unknown = await client.call_tool("create_run", {"agent_uuid": "not-an-agent", "no_llm": True})
        assert unknown.is_error and "no agent with UUID 'not-an-agent'" in text_of(unknown)
        assert "HaloCodeHelper" in text_of(unknown)

    serve_process(home, tmp_path / "stderr.log", scenario)


def test_cancelling_create_run_cancels_the_run(analysed: dict[str, Any], tmp_path: Path) -> None:
    home = analysed["home"]
    store = Store(home)
    before = {item.run_id for item in runs.list_runs(store, limit=1000)}

    with FakeAnthropic() as fake:
        fake.push(FakeReply(body=text_message("too late"), held=True))
        env = {"ANTHROPIC_API_KEY": "test-key-not-real", "ANTHROPIC_BASE_URL": fake.base_url,
               "HALO_LLM_MAX_RETRIES": "0", "HALO_LLM_RETRY_DELAY": "0.01"}

        async def scenario(client: Client) -> None:
            async with anyio.create_task_group() as group:
                group.start_soon(client.call_tool, "create_run", {
                    "agent_uuid": analysed["run"]["agentUuid"], "window_start_at": HALO_WINDOW[0],
                    "window_end_at": HALO_WINDOW[1]})
                with anyio.fail_after(600):
                    while not fake.requests:  # the run is inside its (held) LLM call
                        await anyio.sleep(0.05)
                group.cancel_scope.cancel()
            assert document(await client.call_tool("list_agents", {"time_range": "all"}))

        serve_process(home, tmp_path / "stderr.log", scenario, env)

    (run_id,) = {item.run_id for item in runs.list_runs(store, limit=1000)} - before
    wait_until(lambda: runs.get_run(store, run_id).status in runs.TERMINAL_STATES, step=0.5)
    ended = runs.get_run(store, run_id).to_json()
    assert (ended["status"], ended["statusReason"]) == ("cancelled", "the MCP client cancelled the tool call")


@pytest.mark.usefixtures("halo_store")
def test_query_spans_sees_newly_loaded_spans_and_caps_cells(store: Store) -> None:
    async def scenario(client: Client, tools: Any) -> None:
        count = "SELECT count(*) AS n FROM spans"
        assert document(await client.call_tool("query_spans", {"sql": count}))["rows"] == [[58]]
        assert document(await client.call_tool("query_spans", {"sql": count}))["rows"] == [[58]]
        assert tools.sandboxes.builds == 1  # unchanged database: the copy is reused

        await anyio.to_thread.run_sync(load_paths, store, [DEMO_FIXTURE])
        grown = document(await client.call_tool("query_spans", {"sql": count}))["rows"][0][0]
        assert grown > 58 and tools.sandboxes.builds == 2

        wide = document(await client.call_tool("query_spans", {
            "sql": "SELECT repeat('x', 5000) AS big, 'key sk-ant-api03-abcdefghijklmnop' AS secret, "
                   "[1, 2] AS list, TIMESTAMP '2026-04-24 18:00:00' AS at"}))
        big, secret, listed, at = wide["rows"][0]
        assert big.startswith("x" * 2000) and big.endswith("…[+3000 chars]")
        assert secret == "key [REDACTED]" and listed == [1, 2] and at == "2026-04-24T18:00:00Z"

        many = document(await client.call_tool("query_spans", {"sql": "SELECT * FROM range(500)"}))
        assert many["rowCount"] == 200 and many["truncated"] is True

    serve_in_process(store, scenario)


@pytest.mark.usefixtures("halo_store")
def test_an_unexpected_failure_is_a_tool_error_and_the_server_goes_on(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(usecases, "list_conversations", broken)

    async def scenario(client: Client, tools: Any) -> None:
        failed = await client.call_tool("list_halo_conversations", {})
        assert failed.is_error and "internal error (RuntimeError): disk on fire" in text_of(failed)
        assert document(await client.call_tool("list_agents", {"time_range": "all"}))[0]["spanCount"] == 58
        empty = document(await client.call_tool("query_spans", {"sql": "SELECT * FROM spans WHERE false"}))
        assert empty["rowCount"] == 0 and "trace_id" in empty["columns"]

    serve_in_process(store, scenario)


def test_query_spans_without_a_database_says_to_load_traces(isolated_home: Path) -> None:
    async def scenario(client: Client, tools: Any) -> None:
        failed = await client.call_tool("query_spans", {"sql": "SELECT 1"})
        assert failed.is_error and "does not exist" in text_of(failed) and "traces load" in text_of(failed)

    serve_in_process(Store(isolated_home), scenario)


def test_runs_and_conversations_come_back_with_secrets_redacted(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    # A run analysed before snapshots were redacted kept error messages verbatim in its findings.
    secret = "sk-ant-api03-abcdefghijklmnopqrstuvwxyz"
    stored_run = {"runId": "run_0123456789ab", "status": "completed",
                  "findings": [{"title": f"ConnectionError: {secret} invalid", "detail": f"key:\n{secret}"}]}
    report = f"# Report\n\nAuthorization: Bearer {secret}"
    stored_conversation = {"conversationId": "conv_0123456789ab", "run": stored_run,
                           "messages": [{"role": "assistant", "content": report}]}
    monkeypatch.setattr(runs, "get_run", lambda *args, **kwargs: SimpleNamespace(to_json=lambda: stored_run))
    monkeypatch.setattr(usecases, "get_conversation", lambda *args, **kwargs: stored_conversation)

    async def scenario(client: Client, tools: Any) -> None:
        fetched = await client.call_tool("get_run", {"run_id": "run_0123456789ab"})
        found = await client.call_tool("get_halo_conversation", {"conversation_id": "conv_0123456789ab"})
        for result in (fetched, found):
            assert secret not in text_of(result) and "sk-ant" not in text_of(result)
        assert document(fetched)["findings"][0]["title"] == "ConnectionError: [REDACTED] invalid"
        assert document(found)["messages"][0]["content"] == "# Report\n\nAuthorization: Bearer [REDACTED]"

    serve_in_process(store, scenario)


@pytest.mark.usefixtures("halo_store")
def test_lists_stay_short_and_say_how_to_reach_the_rest(store: Store) -> None:
    many = [span(trace, 0, start=BASE, agent_uuid=f"00000000-0000-5000-8000-{trace:012d}", agent_name=f"agent-{trace}")
            for trace in range(LIST_MAX_ITEMS + 20)]
    insert_spans(store, many)
    capture_agent = traces.find_agent(store, "HaloCodeHelper")["agentUuid"]
    for _ in range(3):  # three conversations, over an empty window: they end no_traces without analysing
        runs.create_run(store, agent_uuid=capture_agent, window_start_at="2026-01-01T00:00:00Z",
                        window_end_at="2026-01-02T00:00:00Z", no_llm=True, wait=True)

    async def scenario(client: Client, tools: Any) -> None:
        default = await client.call_tool("list_agents", {"time_range": "all"})
        assert len(json.loads(default.content[0].text)) == 50 and not default.is_error
        assert default.content[1].text.startswith(f"Only the 50 most recently active of {LIST_MAX_ITEMS + 21} agents")
        assert "a larger limit (at most 100)" in default.content[1].text

        huge = await client.call_tool("list_agents", {"time_range": "all", "limit": 10**9})
        assert len(json.loads(huge.content[0].text)) == LIST_MAX_ITEMS and "larger limit" not in huge.content[1].text
        assert "query_spans: SELECT agent_uuid" in huge.content[1].text

        few = await client.call_tool("list_halo_conversations", {"limit": 2})
        assert len(json.loads(few.content[0].text)) == 2
        assert few.content[1].text == ("Only the 2 newest conversations are listed; older ones exist. "
                                       "Pass a larger limit (at most 100).")
        beyond_int64 = await client.call_tool("list_halo_conversations", {"limit": 10**30})
        assert len(json.loads(text_of(beyond_int64))) == 3  # all of them, no note, no overflow

    serve_in_process(store, scenario)


@pytest.mark.usefixtures("halo_store")
def test_query_spans_fits_its_json_in_the_budget_and_says_how_to_get_more(store: Store) -> None:
    async def scenario(client: Client, tools: Any) -> None:
        quoted = await client.call_tool("query_spans", {"sql": "SELECT repeat('\"', 1900) AS q FROM range(200)"})
        assert len(text_of(quoted)) < QUERY_MAX_CHARS + 500  # JSON escapes counted, not just the characters
        cut = json.loads(text_of(quoted))
        assert cut["truncated"] and cut["rowCount"] == len(cut["rows"]) and 0 < cut["rowCount"] < 10
        assert cut["note"].startswith(f"Truncated: only {cut['rowCount']} rows fit in about 20,000 characters")

        many = document(await client.call_tool("query_spans", {"sql": "SELECT * FROM range(500)"}))
        assert many["note"].startswith("Truncated: the query returned more than 200 rows")
        assert "LIMIT n OFFSET m" in many["note"]

        wide = ", ".join(f"repeat('ab', 1000) AS c{index}" for index in range(11))
        nothing = document(await client.call_tool("query_spans", {"sql": f"SELECT {wide}"}))
        assert nothing["rows"] == [] and nothing["truncated"]
        assert "not even the first row fits" in nothing["note"] and "select fewer columns" in nothing["note"]

        whole = document(await client.call_tool("query_spans", {"sql": "SELECT count(*) AS n FROM spans"}))
        assert "note" not in whole

    serve_in_process(store, scenario)


def test_secrets_at_a_cut_are_redacted_before_the_cut(store: Store) -> None:
    token = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
    padding = "x" * 1995  # the token starts 5 characters before the 2000-character cut
    rows = [span(1, 0, start=BASE, output_text=padding + token)]
    rows += [span(1, index, start=BASE, parent=0, span_type="tool", name="function.search", tool_name="search",
                  error_message=f"{'y' * 60} {token}", status="error") for index in range(1, 300)]
    insert_spans(store, rows)
    trace_id = f"{1:032x}"

    async def scenario(client: Client, tools: Any) -> None:
        root = await client.call_tool("query_spans", {"sql": "SELECT output_text FROM spans WHERE parent_span_id IS NULL"})
        assert document(root)["rows"] == [[padding + "[REDA…[+5 chars]"]] and "ghp_" not in text_of(root)

        tree = document(await client.call_tool("view_trace", {"trace_id": trace_id}))
        assert "ghp_" not in tree["tree"] and len(tree["tree"]) <= QUERY_MAX_CHARS + 20
        assert tree["tree"].endswith("\n(tree cut here)") and "[REDACTED]" in tree["tree"]
        assert f"WHERE trace_id = '{trace_id}' ORDER BY start_time LIMIT 100 OFFSET 100" in tree["note"]

    serve_in_process(store, scenario)


@pytest.mark.usefixtures("halo_store")
def test_closing_the_sandbox_cache_stops_a_running_query_at_once(store: Store,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The client closed stdin mid-query: the server exits now, not when the query's time limit ends. The
    time limit is an hour here, so only close() can end the query; and close() comes at the worst moment,
    its first interrupt landing after the call took the sandbox but before its query was sent."""
    import threading

    from halo_local import mcp_tools
    from halo_local.mcp_tools import SandboxCache
    from halo_local.sandbox import SandboxError, SpanSandbox

    cache = SandboxCache(store.db_path)
    closer = threading.Thread(target=cache.close, daemon=True)  # daemons: a hang ends with the test's timeout
    interrupted = threading.Event()

    class HourLongSandbox(SpanSandbox):
        @classmethod
        def from_database(cls, db_path: Path, **_: Any) -> SpanSandbox:
            return super().from_database(db_path, time_limit_seconds=3600)

        def interrupt(self) -> None:
            super().interrupt()
            interrupted.set()

        def query(self, sql: str, **limits: Any) -> Any:
            closer.start()
            interrupted.wait()
            return super().query(sql, **limits)

    monkeypatch.setattr(mcp_tools, "SpanSandbox", HourLongSandbox)
    outcome: list[BaseException] = []

    def slow_query() -> None:
        try:
            with cache.sandbox() as sandbox:
                sandbox.query("SELECT sum(range % 7) FROM range(100000000000)")  # minutes, were it not stopped
        except SandboxError as error:
            outcome.append(error)

    worker = threading.Thread(target=slow_query, daemon=True)
    worker.start()
    worker.join()
    closer.join()
    assert [str(error) for error in outcome] == ["the query was stopped before it finished"]
