"""raw_spans → spans: real traces of every convention, agents across files, usage counted once, cost."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from genai_prices import Usage, calc_price

from halo_local.common.agents import AGENT_NAMESPACE, agent_uuid_for
from halo_local.ingest import normalize as normalize_module
from halo_local.ingest.loader import load_paths
from halo_local.ingest.normalize import (
    NormalizeResult,
    derive_trace_columns,
    insert_normalized,
)
from halo_local.resources import sql_text
from halo_local.store import Store

FIXTURES = Path(__file__).parent / "fixtures"
SPAN_TYPES = {"llm", "tool", "agent", "chain", "retriever", "embedding", "other"}
BASE_NS = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z

# (file, spans, traces, error spans, tool spans) — tests/fixtures/README.md, except koog: its
# `tool.X` spans carry gen_ai.tool.name and are tool spans here (the README counts explicit kinds only),
# langgraph: Langfuse's LangChain handler records its Web-Search tool call as a plain span (typed by its
# `inputs` metadata here), langgraph-js: its tool run is a plain Langfuse SPAN whose output is a
# ToolMessage, and beeai: its .success/.finish spans only mark the end of a call.
FIXTURE_COUNTS = [
    ("adk-goldens/inference-error-resource-exhausted-schema-v2.otlp.json", 4, 1, 4, 0),
    ("adk-goldens/tool-error-valueerror-schema-v2.otlp.json", 5, 1, 3, 1),
    ("halo/openai_agents_demo_traces.jsonl", 7, 1, 0, 1),
    ("halo/realistic_traces.jsonl", 58, 3, 3, 16),
    ("halo/realistic_traces.otlp.json", 58, 3, 3, 16),
    ("langfuse-frameworks/agno-2025-06-11.otlp.json", 6, 1, 0, 1),
    ("langfuse-frameworks/autogen-2025-06-06.otlp.json", 2, 1, 0, 0),
    ("langfuse-frameworks/beeai-2025-08-01.otlp.json", 29, 1, 0, 1),
    ("langfuse-frameworks/claude-agent-2025-12-22.otlp.json", 7, 1, 0, 2),
    ("langfuse-frameworks/crewai-2025-07-11.otlp.json", 6, 1, 0, 0),
    ("langfuse-frameworks/csharp-agent-with-gemini-2026-03-09.otlp.json", 8, 1, 0, 2),
    ("langfuse-frameworks/google-adk-2025-08-28.otlp.json", 5, 1, 0, 1),
    ("langfuse-frameworks/google-gemini-2025-08-01.otlp.json", 1, 1, 0, 0),
    ("langfuse-frameworks/google-vertex-tools-langchain-2025-09-19.otlp.json", 1, 1, 0, 0),
    ("langfuse-frameworks/koog-2025-08-26.otlp.json", 11, 1, 0, 2),
    ("langfuse-frameworks/langgraph-2025-08-22.otlp.json", 9, 1, 0, 1),
    ("langfuse-frameworks/langgraph-js-2025-10-30.otlp.json", 20, 1, 0, 1),
    ("langfuse-frameworks/langgraph-python-2025-08-22.otlp.json", 9, 1, 0, 1),
    ("langfuse-frameworks/llamaindex-2025-06-05.otlp.json", 2, 1, 0, 0),
    ("langfuse-frameworks/microsoft-agent-2025-10-14.otlp.json", 4, 1, 0, 1),
    ("langfuse-frameworks/microsoft-agent-2025-12-17.otlp.json", 4, 1, 0, 1),
    ("langfuse-frameworks/openai-agents-2025-09-30.otlp.json", 5, 1, 0, 1),
    ("langfuse-frameworks/openai-assistants-2024-05-29.otlp.json", 4, 1, 0, 0),
    ("langfuse-frameworks/pydantic-ai-2025-06-06.otlp.json", 3, 1, 0, 0),
    ("langfuse-frameworks/pydantic-ai-tools-2025-06-06.otlp.json", 3, 1, 0, 0),
    ("langfuse-frameworks/pydantic-ai-tools-2025-12-04.otlp.json", 12, 1, 0, 3),
    ("langfuse-frameworks/pydantic-ai-with-gemini-2025-12-24.otlp.json", 1, 1, 0, 0),
    ("langfuse-frameworks/vercel-aisdk-2025-11-17.otlp.json", 3, 1, 0, 1),
    ("langfuse-frameworks/vertex-ai-2025-08-01.otlp.json", 1, 1, 0, 0),
    ("otel-proto/trace.json", 1, 1, 0, 0),
    ("vendor-payloads/01-should-convert-an-openlit-otel-span-to-langfuse-events.otlp.json", 1, 1, 0, 0),
    ("vendor-payloads/02-should-convert-a-traceloop-otel-span-to-langfuse-events.otlp.json", 1, 1, 0, 0),
    ("vendor-payloads/03-lfe-5171-should-convert-a-semantic-kernel-1-55-otel-span-with-new-even.otlp.json",
     1, 1, 0, 0),
    ("vendor-payloads/04-should-convert-a-vercel-ai-sdk-embedding-span-to-langfuse-embedding-cr.otlp.json",
     1, 1, 0, 0),
    ("vercel-ai-sdk/vercel-ai-sdk-v6-all-spans.otlp.json", 10, 10, 0, 0),
]


# --- helpers (test_pricing.py uses them too) ---------------------------------------------------------

def raw_span(
    span_id: str,
    *,
    trace_id: str = "t" * 32,
    parent: str | None = None,
    name: str = "span",
    attributes: dict[str, Any] | None = None,
    events: list[dict[str, Any]] | None = None,
    start_ns: int = BASE_NS,
    duration_ns: int = 1_000_000,
    status_code: str = "unset",
    status_message: str | None = None,
    service: str | None = "svc",
    source_line: int = 1,
) -> dict[str, Any]:
    """One raw_spans row (the reader → normalize contract of halo_local.ingest)."""
    return {
        "source_line": source_line,
        "trace_id": trace_id,
        "span_id": span_id,
        "parent_span_id": parent,
        "trace_state": None,
        "name": name,
        "kind": "internal",
        "start_ns": start_ns,
        "end_ns": start_ns + duration_ns,
        "status_code": status_code,
        "status_message": status_message,
        "resource_attributes": json.dumps({"service.name": service} if service is not None else {}),
        "attributes": json.dumps(attributes or {}),
        "scope_name": "test",
        "scope_version": None,
        "events": json.dumps(events or []),
        "links": json.dumps([]),
    }


def fill_raw_spans(connection: duckdb.DuckDBPyConnection, spans: list[dict[str, Any]]) -> None:
    """(Re)create raw_spans holding `spans`, as a reader would."""
    connection.execute(sql_text("ingest/raw_spans.sql"))
    if not spans:
        return
    connection.register("test_raw_rows", pa.Table.from_pylist(spans))
    try:
        connection.execute(
            "INSERT INTO raw_spans SELECT source_line, trace_id, span_id, parent_span_id, trace_state, name, kind,"
            " start_ns, end_ns, status_code, status_message, CAST(resource_attributes AS JSON),"
            " CAST(attributes AS JSON), scope_name, scope_version, CAST(events AS JSON), CAST(links AS JSON)"
            " FROM test_raw_rows"
        )
    finally:
        connection.unregister("test_raw_rows")


def normalize_spans(connection: duckdb.DuckDBPyConnection, spans: list[dict[str, Any]],
                    source_file: str = "/tmp/test.jsonl") -> NormalizeResult:
    """What the loader does for one file, on hand-made raw spans."""
    fill_raw_spans(connection, spans)
    result = insert_normalized(connection, source_files=[source_file])
    derive_trace_columns(connection, result.underived_trace_ids)
    return result


def stored(connection: duckdb.DuckDBPyConnection, where: str = "TRUE") -> dict[str, dict[str, Any]]:
    """Stored spans by span_id, each as a column → value dict."""
    cursor = connection.execute(f"SELECT * FROM spans WHERE {where} ORDER BY trace_id, span_id")
    columns = [description[0] for description in cursor.description]
    return {row[columns.index("span_id")]: dict(zip(columns, row, strict=True)) for row in cursor.fetchall()}


def expected_cost(provider: str | None, model: str, start_ns: int, **tokens: int | None) -> Decimal | None:
    """genai-prices' own price, at the column's scale (10 places, half up); None when it cannot price."""
    usage = Usage(**{key: value for key, value in tokens.items() if value is not None})
    timestamp = datetime.fromtimestamp(start_ns // 1000 / 1_000_000, tz=UTC)
    attempts = [provider, None] if provider is not None else [None]
    for attempt in attempts:  # an unknown provider or model falls back to the model id alone, as pricing does
        try:
            price = calc_price(usage, model, provider_id=attempt, genai_request_timestamp=timestamp)
            break
        except LookupError:
            continue
        except ValueError:  # usage genai-prices rejects
            return None
    else:
        return None
    return price.total_price.quantize(Decimal("1e-10"), rounding=ROUND_HALF_UP)


# --- real traces ---------------------------------------------------------------------------------------

# One of each pair of fixture files that hold the same trace (one export in two forms, two captures of
# one run, two vendor payloads built from one span).
HOLDING_THE_SAME_TRACES = {
    "halo/realistic_traces.otlp.json", "langfuse-frameworks/langgraph-python-2025-08-22.otlp.json",
    "langfuse-frameworks/pydantic-ai-tools-2025-06-06.otlp.json",
    "vendor-payloads/03-lfe-5171-should-convert-a-semantic-kernel-1-55-otel-span-with-new-even.otlp.json",
}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, list[dict[str, Any]]]]:
    """Every fixture file's stored rows, in start order, as loaded alone: the files that hold no trace of
    one another share a store and one load (a group: every derived column is per trace, so each file
    stores what it would alone, at a fraction of the time), the others go to a second store. Checked:
    no trace is held by two files of a store."""
    result: dict[str, list[dict[str, Any]]] = {}
    partitions = [[relative for relative, *_ in FIXTURE_COUNTS if relative not in HOLDING_THE_SAME_TRACES],
                  sorted(HOLDING_THE_SAME_TRACES)]
    for partition in partitions:
        store = Store(tmp_path_factory.mktemp("store"))
        load_paths(store, [FIXTURES / relative for relative in partition])
        with store.connect() as connection:
            shared = connection.execute(
                "SELECT trace_id FROM loaded_file_traces GROUP BY trace_id HAVING count(DISTINCT path) > 1").fetchall()
            assert shared == [], f"fixture files of one store hold the same traces {shared}: list them apart"
            for relative in partition:
                cursor = connection.execute("SELECT * FROM spans WHERE source_file = ? ORDER BY start_ns, span_id",
                                            [str((FIXTURES / relative).resolve())])
                columns = [description[0] for description in cursor.description]
                result[relative] = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    yield result


def only(rows: list[dict[str, Any]], **match: Any) -> dict[str, Any]:
    found = [row for row in rows if all(row[key] == value for key, value in match.items())]
    assert len(found) == 1, f"{len(found)} spans match {match}"
    return found[0]


@pytest.mark.parametrize(("relative", "spans", "traces", "errors", "tools"), FIXTURE_COUNTS)
def test_fixture_counts(loaded: dict, relative: str, spans: int, traces: int, errors: int, tools: int) -> None:
    rows = loaded[relative]
    assert len(rows) == spans
    assert len({row["trace_id"] for row in rows}) == traces
    assert sum(row["status_code"] == "error" for row in rows) == errors
    assert sum(row["span_type"] == "tool" for row in rows) == tools
    for row in rows:
        assert row["span_type"] in SPAN_TYPES
        assert row["agent_uuid"] == agent_uuid_for(row["service_name"], row["agent_name"])
        assert row["source_file"] == str((FIXTURES / relative).resolve())
        if row["cost_source"] is None:
            assert row["cost_usd"] is None
        if row["cost_source"] == "unpriced":
            assert row["cost_usd"] is None
        if row["cost_usd"] is not None:
            assert row["cost_source"] in {"span", "computed"}


def test_halo_flat_jsonl_and_otlp_normalize_to_identical_rows(loaded: dict) -> None:
    ignored = {"source_file", "source_line", "loaded_at", "attributes"}  # JSONL keeps JSON nulls OTLP drops

    def canonical(relative: str) -> list[dict]:
        rows = sorted(loaded[relative], key=lambda row: (row["trace_id"], row["span_id"]))
        return [{key: value for key, value in row.items() if key not in ignored} for row in rows]

    assert canonical("halo/realistic_traces.jsonl") == canonical("halo/realistic_traces.otlp.json")


def test_halo_openinference(loaded: dict) -> None:
    rows = loaded["halo/realistic_traces.jsonl"]
    assert {row["agent_name"] for row in rows} == {"HaloCodeHelper"}
    assert {row["service_name"] for row in rows} == {"halo-openai-agents-demo"}
    root = only(rows, span_id="78da3ccb337144318fa835cf")
    assert (root["span_type"], root["parent_span_id"]) == ("chain", None)
    agent = only(rows, name="agent.HaloCodeHelper", trace_id=root["trace_id"])
    assert agent["span_type"] == "agent"
    assert agent["declared_tools"] == ["list_files", "read_file", "grep"]
    llm = only(rows, span_id="79d500bda507440f8a237682")
    assert (llm["span_type"], llm["provider"], llm["model"]) == ("llm", "openai", None)
    assert (llm["input_tokens"], llm["output_tokens"], llm["counts_usage"]) == (325, 21, True)
    assert (llm["cost_usd"], llm["cost_source"]) == (None, "unpriced")  # tokens but no model
    tool = only(rows, span_id="261fcb79ae604e8ca68f610e")
    assert (tool["span_type"], tool["tool_name"]) == ("tool", "list_files")
    assert tool["tool_arguments"] == '{"subdir":"./","pattern":"*.py"}'
    assert tool["tool_result"].startswith("['./verify_traces.py'")
    assert (tool["cost_usd"], tool["cost_source"]) == (None, None)
    failed = [row for row in rows if row["status_code"] == "error"]
    assert {(row["span_type"], row["tool_name"], row["error_message"]) for row in failed} == {
        ("tool", "list_files", "Error running tool (non-fatal)")}
    assert all(row["status_message"] == "Error running tool (non-fatal)" for row in failed)
    assert all(row["tool_result"].startswith("An error occurred while running the tool") for row in failed)


def test_adk_golden_semconv(loaded: dict) -> None:
    rows = loaded["adk-goldens/tool-error-valueerror-schema-v2.otlp.json"]
    assert {row["agent_name"] for row in rows} == {"some_root_agent"}
    assert only(rows, span_id="bf1b73a4a0592886")["span_type"] == "chain"  # invoke_workflow
    assert only(rows, span_id="3e5b585b860db429")["span_type"] == "agent"  # invoke_agent
    wrapper = only(rows, name="call_llm")
    call = only(rows, span_id="aed94a3126349b04")
    assert (wrapper["span_type"], call["span_type"]) == ("chain", "llm")
    assert (call["provider"], call["model"], call["session_id"]) == ("google", "gemini-2.5-flash", "PRESENT")
    assert (call["input_tokens"], call["output_tokens"], call["cache_read_tokens"]) == (100, 25, 40)
    assert call["finish_reason"] == "stop"
    assert call["input_text"] == "<elided>\n\n<elided>"  # gen_ai.system/user.message events, body.content
    assert call["output_text"] == "<elided>"  # gen_ai.choice event
    # call_llm repeats its child's usage: counted once, on the model call
    assert (wrapper["counts_usage"], call["counts_usage"]) == (False, True)
    assert call["cost_source"] == "computed"
    assert call["cost_usd"] == expected_cost("google", "gemini-2.5-flash", call["start_ns"], input_tokens=100,
                                             output_tokens=25, cache_read_tokens=40)
    tool = only(rows, span_id="6347a5274a570e4f")
    assert (tool["span_type"], tool["tool_name"], tool["tool_arguments"]) == ("tool", "some_tool", "{}")
    assert (tool["status_code"], tool["error_type"], tool["error_message"]) == ("error", "ValueError", "ValueError")


def test_adk_golden_inference_error(loaded: dict) -> None:
    rows = loaded["adk-goldens/inference-error-resource-exhausted-schema-v2.otlp.json"]
    call = only(rows, name="generate_content gemini-2.5-flash")
    assert (call["span_type"], call["status_code"], call["error_type"], call["error_message"]) == (
        "llm", "error", "429", "429")
    assert (call["cost_usd"], call["cost_source"]) == (None, None)  # no usage at all


def test_openinference_openai_agents(loaded: dict) -> None:
    rows = loaded["langfuse-frameworks/openai-agents-2025-09-30.otlp.json"]
    # "Agent workflow" is an agent span without a name; the trace's root agent is "Hello world"
    assert {row["agent_name"] for row in rows} == {"Hello world"}
    first = only(rows, name="response", input_tokens=55)
    assert (first["model"], first["provider"], first["output_tokens"], first["cache_read_tokens"]) == (
        "gpt-4.1-2025-04-14", "openai", 15, 0)
    assert first["declared_tools"] == ["get_weather"]
    assert first["input_text"].startswith("You are a helpful agent.\n\nWhat's the weather in Tokyo?")
    assert (first["cost_usd"], first["cost_source"]) == (Decimal("0.00023"), "span")  # langfuse cost_details
    tool = only(rows, span_type="tool")
    assert (tool["tool_name"], tool["tool_arguments"], tool["tool_result"]) == (
        "get_weather", '{"city":"Tokyo"}', "The weather in Tokyo is sunny.")


def test_openinference_google_adk(loaded: dict) -> None:
    rows = loaded["langfuse-frameworks/google-adk-2025-08-28.otlp.json"]
    assert {row["agent_name"] for row in rows} == {"hello_agent"}  # from the span name agent_run [hello_agent]
    assert {row["session_id"] for row in rows} == {"demo-session"}
    call = only(rows, name="call_llm", input_tokens=39)
    assert (call["span_type"], call["model"], call["output_tokens"]) == ("llm", "gemini-2.0-flash", 6)
    assert call["output_text"] == "Hello Langfuse 👋!\n"
    tool = only(rows, span_type="tool")
    assert (tool["tool_name"], tool["tool_result"]) == ("say_hello", '{"greeting": "Hello Langfuse 👋"}')


def test_openinference_string_token_counts_crewai(loaded: dict) -> None:
    call = only(loaded["langfuse-frameworks/crewai-2025-07-11.otlp.json"], name="completion")
    assert (call["input_tokens"], call["output_tokens"], call["cache_read_tokens"]) == (190, 164, 0)
    assert call["model"] == "gpt-4o-mini"


def test_openinference_vertex_model_resource_name(loaded: dict) -> None:
    call = only(loaded["langfuse-frameworks/vertex-ai-2025-08-01.otlp.json"], name="generate_content")
    assert (call["model"], call["input_tokens"], call["output_tokens"]) == ("gemini-2.5-flash", 5, 845)
    assert call["input_text"] == "What is Langfuse?"


def test_openinference_streamed_output_parts_beeai(loaded: dict) -> None:
    rows = loaded["langfuse-frameworks/beeai-2025-08-01.otlp.json"]
    streamed = only(rows, name="backend.openai.chat.success-16")
    assert "Montjuïc Castle and the Magic Fountain" in streamed["output_text"]
    llm = only(rows, name="backend.openai.chat.start-14")
    assert (llm["span_type"], llm["input_tokens"], llm["output_tokens"]) == ("llm", 1195, None)
    # one span per call: the .success and .finish events of a call only mark its end
    calls = {row["name"] for row in rows if row["span_type"] in ("llm", "tool")}
    assert calls == {"backend.openai.chat.start-14", "backend.openai.chat.start-15", "backend.openai.chat.start-16",
                     "tool.search.wikipedia.start-12"}


def test_langfuse_usage_details_add_detail_tokens_back(loaded: dict) -> None:
    rows = loaded["langfuse-frameworks/langgraph-js-2025-10-30.otlp.json"]
    call = only(rows, name="ChatOpenAI", input_tokens=179)
    # usage_details {"input": 179, "output": 35, "output_reasoning": 64, "input_cache_read": 0, ...}
    assert (call["output_tokens"], call["cache_read_tokens"]) == (99, 0)
    assert (call["span_type"], call["model"]) == ("llm", "gpt-5-mini-2025-08-07")
    assert (call["cost_usd"], call["cost_source"]) == (Decimal("0.00024275"), "span")


def test_langchain_js_tool_run_is_a_tool_span(loaded: dict) -> None:
    rows = loaded["langfuse-frameworks/langgraph-js-2025-10-30.otlp.json"]
    tool = only(rows, name="get_weather")
    assert (tool["span_type"], tool["tool_name"], tool["tool_arguments"]) == ("tool", "get_weather",
                                                                               '{"city":"San Francisco"}')
    assert "It's always sunny in San Francisco!" in tool["tool_result"]
    # the graph's own spans pass the ToolMessage on inside a list of messages: not tool runs
    assert [row["name"] for row in rows if row["span_type"] == "tool"] == ["get_weather"]


def test_otel_genai_current_csharp(loaded: dict) -> None:
    rows = loaded["langfuse-frameworks/csharp-agent-with-gemini-2026-03-09.otlp.json"]
    root = only(rows, name="Insights Agent C#")
    assert root["parent_span_id"] is not None  # its parent is not in the file
    assert {row["agent_name"] for row in rows} == {"agentic-clientinsights"}  # no agent span: the service
    assert root["session_id"] == "9714061f-20c0-4d98-9220-1dc7df15c3c2"
    call = only(rows, name="chat gemini-2.5-flash", input_tokens=2497)
    assert (call["provider"], call["model"], call["finish_reason"]) == ("google", "gemini-2.5-flash", "stop")
    assert call["declared_tools"] == ["final_result"]
    assert json.loads(call["input_text"])[0]["role"] == "user"
    aggregate = only(rows, name="orchestrate_tools", input_tokens=2497)
    assert (aggregate["span_type"], aggregate["counts_usage"], aggregate["cost_source"]) == ("other", False, "unpriced")
    counted = [row for row in rows if row["counts_usage"] and row["input_tokens"] is not None]
    assert sum(row["input_tokens"] for row in counted) == 2497 + 3004 + 2546
    tool = only(rows, name="get_custom_report")
    assert tool["tool_arguments"].lstrip().startswith("{")
    assert '"response_status": "Error"' in tool["tool_result"]


def test_otel_genai_agent_framework(loaded: dict) -> None:
    rows = loaded["langfuse-frameworks/microsoft-agent-2025-12-17.otlp.json"]
    agent = only(rows, span_type="agent")
    assert agent["agent_name"] == "171105b7-59dd-49c0-9677-0b95395aa46a"
    assert {row["agent_name"] for row in rows} == {agent["agent_name"]}
    assert (agent["provider"], agent["counts_usage"]) == ("microsoft.agent_framework", False)
    calls = [row for row in rows if row["span_type"] == "llm"]
    assert sorted((row["input_tokens"], row["output_tokens"]) for row in calls) == [(77, 86), (216, 20)]
    assert all(row["counts_usage"] and row["model"] == "gpt-5-mini-2025-08-07" for row in calls)
    tool = only(rows, span_type="tool")
    assert (tool["tool_name"], tool["tool_arguments"]) == ("get_weather", '{"location":"Tokyo, Japan"}')


def test_koog_agent_id_and_flattened_prompts(loaded: dict) -> None:
    rows = loaded["langfuse-frameworks/koog-2025-08-26.otlp.json"]
    assert {row["agent_name"] for row in rows} == {"f9f77d1a-437f-4ba6-890e-b592a50cbd21"}  # gen_ai.agent.id
    first = only(rows, name="llm.chat", input_tokens=47)
    assert first["input_text"].startswith("You are a nice and polite assistant.\n\n")
    assert (first["finish_reason"], first["session_id"]) == ("tool_calls", "6f8d2449-33ed-4c7c-82e7-5410e34ee4e6")
    tool = only(rows, name="tool.ByeTool")
    assert (tool["span_type"], tool["tool_name"], tool["tool_arguments"], tool["tool_result"]) == (
        "tool", "ByeTool", '{"name":"Bob"}', "Bye my dear Bob!")


def test_pydantic_ai(loaded: dict) -> None:
    rows = loaded["langfuse-frameworks/pydantic-ai-tools-2025-12-04.otlp.json"]
    agents = [row for row in rows if row["span_type"] == "agent"]
    assert sorted(row["agent_name"] for row in agents) == ["evaluator_agent", "joke_agent", "joke_agent"]
    assert not any(row["counts_usage"] for row in agents)  # `agent run` sums its chat spans
    assert {row["agent_name"] for row in rows if row["name"] == "run_joke_generator"} == {"joke_agent"}
    call = only(rows, name="chat gpt-4o-mini", input_tokens=265)
    assert (call["provider"], call["model"], call["finish_reason"]) == ("openai", "gpt-4o-mini-2024-07-18", "tool_call")
    assert (call["cost_usd"], call["cost_source"]) == (Decimal("0.00008355"), "span")  # operation.cost
    assert call["declared_tools"][:3] == ["get_pun_suggestion", "get_dad_joke_suggestion", "get_one_liner_suggestion"]
    tool = only(rows, name="running tool: get_pun_suggestion")
    assert (tool["span_type"], tool["tool_name"], tool["agent_name"]) == ("tool", "get_pun_suggestion", "joke_agent")
    assert json.loads(tool["tool_arguments"]) == {"topic": "programming"}
    assert tool["tool_result"].startswith("Pun idea:")
    counted = sum(row["cost_usd"] for row in rows if row["counts_usage"] and row["cost_usd"] is not None)
    assert counted == Decimal("0.0000837") + Decimal("0.00009435") + Decimal("0.00008355") + Decimal("0.00006105")


def test_pydantic_ai_gemini_provider(loaded: dict) -> None:
    call = only(loaded["langfuse-frameworks/pydantic-ai-with-gemini-2025-12-24.otlp.json"], span_type="llm")
    assert (call["provider"], call["model"]) == ("google", "gemini-2.5-flash")  # gen_ai.system google-gla


def test_vercel_ai_sdk(loaded: dict) -> None:
    rows = loaded["vercel-ai-sdk/vercel-ai-sdk-v6-all-spans.otlp.json"]
    stream = only(rows, name="ai.streamText.doStream")
    assert (stream["span_type"], stream["model"], stream["provider"]) == ("llm", "gpt-4o-mini-2024-07-18", "openai")
    assert (stream["input_tokens"], stream["output_tokens"], stream["cache_read_tokens"]) == (15, 112, 0)
    assert stream["output_text"].startswith("In code’s embrace")
    assert stream["cost_source"] == "computed"
    assert stream["cost_usd"] == expected_cost("openai", "gpt-4o-mini-2024-07-18", stream["start_ns"],
                                               input_tokens=15, output_tokens=112, cache_read_tokens=0)
    assert only(rows, name="ai.streamText")["span_type"] == "chain"
    embed = only(rows, name="ai.embed.doEmbed")
    assert (embed["span_type"], embed["model"], embed["input_tokens"]) == ("embedding", "text-embedding-3-small", 10)
    generate = only(rows, name="ai.generateText.doGenerate", input_tokens=14)
    assert generate["input_text"] == '[{"role":"user","content":[{"type":"text","text":"Write a haiku about programming."}]}]'
    payload = only(loaded["vendor-payloads/04-should-convert-a-vercel-ai-sdk-embedding-span-to-langfuse-embedding-cr"
                          ".otlp.json"], span_type="embedding")  # operation.name "ai.embed.doEmbed <function id>"
    assert (payload["model"], payload["agent_name"], payload["service_name"]) == ("gemini-embedding-001", None, None)


VERCEL_CAPTURE = FIXTURES / "vercel-ai-sdk" / "vercel-ai-sdk-v6-all-spans.otlp.json"
VERCEL_WRAPPERS = {"ai.generateText", "ai.streamText", "ai.generateObject", "ai.embed"}


def _usage_totals(rows: list[dict[str, Any]]) -> tuple[int, int, Decimal]:
    """Input tokens, output tokens and cost of the spans that count usage."""
    counted = [row for row in rows if row["counts_usage"]]
    return (sum(row["input_tokens"] or 0 for row in counted), sum(row["output_tokens"] or 0 for row in counted),
            sum((row["cost_usd"] or Decimal(0) for row in counted), Decimal(0)))


def _inner_call_totals(rows: list[dict[str, Any]]) -> tuple[int, int, Decimal]:
    """The same totals over the provider-call (do*) spans alone: usage counted once."""
    inner = [row for row in rows if ".do" in row["name"]]
    assert len(inner) == 5
    return (sum(row["input_tokens"] or 0 for row in inner), sum(row["output_tokens"] or 0 for row in inner),
            sum((row["cost_usd"] or Decimal(0) for row in inner), Decimal(0)))


def test_vercel_wrappers_do_not_count_usage_again_without_parent_links(loaded: dict) -> None:
    """Every span of the capture is its own trace: the outer ai.* spans still aggregate the do* calls."""
    rows = loaded["vercel-ai-sdk/vercel-ai-sdk-v6-all-spans.otlp.json"]
    assert {row["name"] for row in rows if not row["counts_usage"]} == VERCEL_WRAPPERS
    assert all(row["input_tokens"] is not None for row in rows if row["name"] in VERCEL_WRAPPERS)
    assert _usage_totals(rows) == _inner_call_totals(rows)
    assert _usage_totals(rows)[:2] == (152, 297)


def test_vercel_wrappers_loaded_before_their_calls(tmp_path: Path) -> None:
    """The wrappers' file loaded first: the later calls' load re-derives them."""
    document = json.loads(VERCEL_CAPTURE.read_text(encoding="utf-8"))
    files = []
    for part, keep in (("wrappers", lambda name: ".do" not in name), ("calls", lambda name: ".do" in name)):
        copy = json.loads(json.dumps(document))
        for resource in copy["resourceSpans"]:
            for scope in resource["scopeSpans"]:
                scope["spans"] = [item for item in scope["spans"] if keep(item["name"])]
        path = tmp_path / f"{part}.otlp.json"
        path.write_text(json.dumps(copy), encoding="utf-8")
        files.append(path)
    store = Store(tmp_path / "store")
    for path in files:
        load_paths(store, [path])
    with store.connect() as connection:
        cursor = connection.execute("SELECT * FROM spans ORDER BY start_ns, span_id")
        columns = [description[0] for description in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    assert {row["name"] for row in rows if not row["counts_usage"]} == VERCEL_WRAPPERS
    assert _usage_totals(rows) == _inner_call_totals(rows)


def test_langgraph_tool_span_from_langfuse_langchain_metadata(loaded: dict) -> None:
    """Langfuse's LangChain handler records a tool as a plain span with on_tool_start's `inputs`."""
    for relative in ("langfuse-frameworks/langgraph-2025-08-22.otlp.json",
                     "langfuse-frameworks/langgraph-python-2025-08-22.otlp.json"):
        rows = loaded[relative]
        tool = only(rows, span_type="tool")
        assert (tool["name"], tool["tool_name"], tool["tool_arguments"]) == ("Web-Search", "Web-Search",
                                                                             "{'query': 'example'}")
        assert "example.com" in tool["tool_result"]
        assert only(rows, name="tools")["span_type"] == "other"


def test_vercel_ai_sdk_tool_call(loaded: dict) -> None:
    rows = loaded["langfuse-frameworks/vercel-aisdk-2025-11-17.otlp.json"]
    tool = only(rows, span_type="tool")
    assert (tool["tool_name"], tool["tool_arguments"]) == ("getWeather", '{"location":"San Francisco"}')
    outer, inner = only(rows, name="ai.generateText"), only(rows, name="ai.generateText.doGenerate")
    assert (outer["span_type"], outer["counts_usage"], inner["counts_usage"]) == ("chain", False, True)
    assert inner["declared_tools"] == ["getWeather"]
    assert (inner["input_tokens"], inner["finish_reason"]) == (62, "tool-calls")  # ai.usage.promptTokens


def test_openllmetry_traceloop(loaded: dict) -> None:
    span = only(loaded["vendor-payloads/02-should-convert-a-traceloop-otel-span-to-langfuse-events.otlp.json"],
                name="openai.chat")
    assert (span["span_type"], span["provider"], span["model"]) == ("llm", "openai", "gpt-3.5-turbo-0125")
    assert (span["input_tokens"], span["output_tokens"], span["finish_reason"]) == (14, 173, "stop")
    assert span["input_text"] == "What is LLM Observability?"
    assert span["output_text"].startswith("LLM Observability (Logs, Metrics, and Traces Observability)")
    assert span["cost_source"] == "computed"
    assert span["cost_usd"] == expected_cost("openai", "gpt-3.5-turbo-0125", span["start_ns"],
                                             input_tokens=14, output_tokens=173)


def test_openlit_events_and_span_cost(loaded: dict) -> None:
    span = only(loaded["vendor-payloads/01-should-convert-an-openlit-otel-span-to-langfuse-events.otlp.json"],
                name="openai.chat.completions")
    assert (span["cost_usd"], span["cost_source"]) == (Decimal("0.000151"), "span")  # gen_ai.usage.cost
    assert span["input_text"] == "user: What is LLM Observability?"
    assert span["output_text"].startswith("LLM Observability stands for")


def test_semantic_kernel_events(loaded: dict) -> None:
    span = only(loaded["vendor-payloads/03-lfe-5171-should-convert-a-semantic-kernel-1-55-otel-span-with-new-even"
                       ".otlp.json"], name="chat_completion")
    assert (span["span_type"], span["model"], span["finish_reason"]) == ("llm", "gpt-4-0613", "stop")
    assert span["input_text"] == "You are a helpful assistant.\n\nWhat is the capital of France?"
    assert span["output_text"] == "The capital of France is Paris."


def test_plain_otlp_span_without_conventions(loaded: dict) -> None:
    span = only(loaded["otel-proto/trace.json"])
    assert (span["span_type"], span["agent_name"], span["service_name"]) == ("other", "my.service", "my.service")
    assert (span["kind"], span["input_tokens"], span["cost_source"]) == ("server", None, None)


# --- conventions without a real trace here, on hand-made spans ---------------------------------------------

def test_inference_net_projections(store: Store) -> None:
    attributes = {
        "inference.observation_kind": "LLM",
        "inference.llm.provider": "anthropic",
        "inference.llm.model_name": "claude-sonnet-4-5",
        "inference.llm.input_tokens": 1200,
        "inference.llm.output_tokens": 80,
        "inference.llm.cost.total": "0.0048",
        "inference.session_id": "session-7",
        "inference.agent_name": "",
    }
    agent = {"inference.observation_kind": "AGENT", "inference.agent_name": "Planner"}
    with store.connect() as connection:
        normalize_spans(connection, [raw_span("a", name="agent", attributes=agent),
                                     raw_span("b", parent="a", name="llm call", attributes=attributes)])
        rows = stored(connection)
    assert rows["a"]["span_type"] == "agent"
    call = rows["b"]
    assert (call["span_type"], call["provider"], call["model"], call["session_id"]) == (
        "llm", "anthropic", "claude-sonnet-4-5", "session-7")
    assert (call["input_tokens"], call["output_tokens"]) == (1200, 80)
    assert (call["cost_usd"], call["cost_source"]) == (Decimal("0.0048"), "span")  # a string cost
    assert call["agent_name"] == "Planner"


def test_langfuse_level_error_and_cached_usage(store: Store) -> None:
    attributes = {
        "langfuse.observation.type": "GENERATION",
        "langfuse.observation.model.name": "gpt-4o",
        "langfuse.observation.usage_details": json.dumps({"input": 60, "input_cache_read": 40, "output": 10}),
        "langfuse.observation.level": "ERROR",
        "langfuse.observation.status_message": "rate limited",
    }
    with store.connect() as connection:
        normalize_spans(connection, [raw_span("a", attributes=attributes)])
        span = stored(connection)["a"]
    assert (span["status_code"], span["error_message"]) == ("error", "rate limited")
    assert (span["input_tokens"], span["cache_read_tokens"], span["output_tokens"]) == (100, 40, 10)
    assert span["cost_usd"] == expected_cost(None, "gpt-4o", span["start_ns"], input_tokens=100,
                                             cache_read_tokens=40, output_tokens=10)


def test_exception_events_and_error_attributes(store: Store) -> None:
    event = {"name": "exception", "timeUnixNano": str(BASE_NS),
             "attributes": {"exception.type": "TimeoutError", "exception.message": "read timed out"}}
    with store.connect() as connection:
        normalize_spans(connection, [
            raw_span("a", name="execute_tool fetch", events=[event], status_code="error", status_message="boom"),
            raw_span("b", name="execute_tool parse", status_code="error", status_message="bad input",
                     attributes={"error.type": "ValueError"}),
        ])
        rows = stored(connection)
    assert (rows["a"]["span_type"], rows["a"]["tool_name"]) == ("tool", "fetch")
    assert (rows["a"]["error_type"], rows["a"]["error_message"], rows["a"]["status_message"]) == (
        "TimeoutError", "read timed out", "boom")
    assert (rows["b"]["error_type"], rows["b"]["error_message"]) == ("ValueError", "bad input")


def test_otel_genai_current_keys_and_provider_names(store: Store) -> None:
    def chat(span_id: str, provider: str) -> dict:
        return raw_span(span_id, name="chat", attributes={
            "gen_ai.operation.name": "chat", "gen_ai.provider.name": provider, "gen_ai.request.model": "m-1",
            "gen_ai.conversation.id": "conv-1", "gen_ai.usage.input_tokens": 10,
            "gen_ai.usage.cache_creation.input_tokens": 4,
            "gen_ai.input.messages": [{"role": "user", "parts": [{"type": "text", "content": "hi"}]}],
            "gen_ai.output.messages": [{"role": "assistant", "parts": [{"type": "text", "content": "hello"}]}],
            "gen_ai.response.finish_reasons": ["length"],
            "gen_ai.tool.definitions": [{"type": "function", "name": "search"}],
        })

    names = {"a": "aws.bedrock", "b": "azure.ai.openai", "c": "x_ai", "d": "gcp.vertex_ai", "e": "gemini",
             "f": "mistral_ai", "g": "SomeNewVendor"}
    with store.connect() as connection:
        normalize_spans(connection, [chat(span_id, provider) for span_id, provider in names.items()])
        rows = stored(connection)
    assert {span_id: row["provider"] for span_id, row in rows.items()} == {
        "a": "aws", "b": "azure", "c": "x-ai", "d": "google", "e": "google", "f": "mistral", "g": "somenewvendor"}
    span = rows["a"]
    assert (span["session_id"], span["cache_write_tokens"], span["finish_reason"]) == ("conv-1", 4, "length")
    assert json.loads(span["input_text"])[0]["parts"][0]["content"] == "hi"
    assert json.loads(span["output_text"])[0]["parts"][0]["content"] == "hello"
    assert span["declared_tools"] == ["search"]
    assert all(row["cost_source"] == "unpriced" and row["cost_usd"] is None for row in rows.values())  # model m-1


def test_otel_genai_deprecated_keys_and_tool_call(store: Store) -> None:
    with store.connect() as connection:
        normalize_spans(connection, [
            raw_span("a", name="text_completion", attributes={
                "gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o", "gen_ai.response.model": "gpt-4o-2024-08-06",
                "gen_ai.usage.prompt_tokens": "12", "gen_ai.usage.completion_tokens": 3}),
            raw_span("b", name="execute_tool lookup", attributes={
                "gen_ai.tool.call.arguments": '{"q": 1}', "gen_ai.tool.call.result": "found"}),
        ])
        rows = stored(connection)
    assert (rows["a"]["span_type"], rows["a"]["model"], rows["a"]["input_tokens"], rows["a"]["output_tokens"]) == (
        "llm", "gpt-4o-2024-08-06", 12, 3)
    assert (rows["b"]["tool_name"], rows["b"]["tool_arguments"], rows["b"]["tool_result"]) == (
        "lookup", '{"q": 1}', "found")


def test_openllmetry_entities(store: Store) -> None:
    with store.connect() as connection:
        normalize_spans(connection, [
            raw_span("w", name="flow.workflow", attributes={"traceloop.span.kind": "workflow",
                                                             "traceloop.association.properties.session_id": "s-1"}),
            raw_span("a", parent="w", name="writer.agent", attributes={
                "traceloop.span.kind": "agent", "traceloop.entity.name": "writer"}),
            raw_span("t", parent="a", name="search.tool", attributes={
                "traceloop.span.kind": "tool", "traceloop.entity.name": "search",
                "traceloop.entity.input": '{"q": "x"}', "traceloop.entity.output": "3 hits"}),
            raw_span("l", parent="a", name="openai.chat", attributes={
                "llm.request.type": "chat", "gen_ai.system": "OpenAI", "gen_ai.request.model": "gpt-4o",
                "llm.usage.prompt_tokens": 20, "llm.usage.completion_tokens": 4,
                "gen_ai.completion.0.finish_reason": "length"}),
        ])
        rows = stored(connection)
    assert {span_id: row["span_type"] for span_id, row in rows.items()} == {
        "w": "chain", "a": "agent", "t": "tool", "l": "llm"}
    assert {row["agent_name"] for row in rows.values()} == {"writer"}
    assert rows["w"]["session_id"] == "s-1"
    assert (rows["t"]["tool_name"], rows["t"]["tool_arguments"], rows["t"]["tool_result"]) == (
        "search", '{"q": "x"}', "3 hits")
    assert (rows["l"]["input_tokens"], rows["l"]["output_tokens"], rows["l"]["finish_reason"]) == (20, 4, "length")
    assert rows["l"]["provider"] == "openai"


def test_a_model_call_is_an_llm_span_whatever_its_generic_kind(store: Store) -> None:
    """A model-call marker or a model with token usage of its own beats a decorator's task/chain kind."""
    with store.connect() as connection:
        normalize_spans(connection, [
            raw_span("w", name="flow.workflow", attributes={"traceloop.span.kind": "workflow"}),
            raw_span("t", parent="w", name="summarize.task", attributes={
                "traceloop.span.kind": "task", "llm.request.type": "chat", "gen_ai.request.model": "gpt-4o",
                "gen_ai.usage.input_tokens": 20, "gen_ai.usage.output_tokens": 4}),
            raw_span("o", parent="w", name="answer", attributes={
                "openinference.span.kind": "CHAIN", "gen_ai.operation.name": "chat"}),
            raw_span("c", parent="w", name="helper", attributes={
                "openinference.span.kind": "CHAIN", "llm.model_name": "gpt-4o-mini",
                "llm.token_count.prompt": 7, "llm.token_count.completion": 2}),
            raw_span("p", parent="w", name="plan.task", attributes={"traceloop.span.kind": "task"}),
        ])
        rows = stored(connection)
    assert {span_id: row["span_type"] for span_id, row in rows.items()} == {
        "w": "chain", "t": "llm", "o": "llm", "c": "llm", "p": "chain"}


def test_indexed_openinference_messages_and_tools(store: Store) -> None:
    attributes = {
        "openinference.span.kind": "LLM",
        "llm.input_messages.1.message.content": "second",
        "llm.input_messages.0.message.content": "first",
        "llm.input_messages.10.message.content": "eleventh",
        "llm.output_messages.0.message.content": "Hel",
        "llm.output_messages.1.message.content": "lo",
        "llm.tools.1.tool.json_schema": json.dumps({"type": "function", "function": {"name": "b"}}),
        "llm.tools.0.tool.json_schema": json.dumps({"type": "function", "function": {"name": "a"}}),
        "llm.finish_reason": "STOP",
    }
    with store.connect() as connection:
        normalize_spans(connection, [raw_span("a", attributes=attributes)])
        span = stored(connection)["a"]
    assert span["input_text"] == "first\n\nsecond\n\neleventh"
    assert span["output_text"] == "Hello"
    assert span["declared_tools"] == ["a", "b"]
    assert span["finish_reason"] == "stop"


def test_tool_columns_only_on_tool_spans(store: Store) -> None:
    with store.connect() as connection:
        normalize_spans(connection, [raw_span("a", attributes={
            "openinference.span.kind": "AGENT", "tool.name": "x", "input.value": "in"})])
        span = stored(connection)["a"]
    assert (span["span_type"], span["tool_name"], span["tool_arguments"], span["input_text"]) == ("agent", None, None, "in")


# --- duplicates ----------------------------------------------------------------------------------------------

def test_duplicates_within_a_file_and_across_loads(store: Store) -> None:
    spans = [raw_span("a", source_line=1, name="first"), raw_span("a", source_line=2, name="second"),
             raw_span("b", source_line=3)]
    with store.connect() as connection:
        result = normalize_spans(connection, spans)
        assert (result.spans_new, result.duplicates, result.underived_trace_ids) == (2, 1, [])  # derived with the insert
        assert stored(connection)["a"]["name"] == "first"
        again = normalize_spans(connection, spans, source_file="/tmp/other.jsonl")
        assert (again.spans_new, again.duplicates, again.underived_trace_ids) == (0, 3, [])
        assert again.held_by_file == {0: ["t" * 32]}  # held, though not new
        assert {row["source_file"] for row in stored(connection).values()} == {"/tmp/test.jsonl"}


def test_an_empty_file_stores_nothing(store: Store) -> None:
    with store.connect() as connection:
        result = normalize_spans(connection, [])
        assert (result.spans_new, result.duplicates, result.underived_trace_ids, result.held_by_file) == (0, 0, [], {})
        derive_trace_columns(connection, ["not-stored"])
        assert connection.execute("SELECT count(*) FROM spans").fetchone() == (0,)


# --- agents --------------------------------------------------------------------------------------------------

def test_agent_uuid_is_uuid5_of_service_and_agent() -> None:
    assert str(AGENT_NAMESPACE) == "d9112c5c-7aeb-5985-a1a6-18f38d8c004a"
    assert agent_uuid_for("svc", "Planner") == "52a844a5-e4a2-5b6a-a212-8cccaf0eff31"
    assert agent_uuid_for("svc", "Planner") != agent_uuid_for("other", "Planner")
    assert agent_uuid_for(None, None) == agent_uuid_for("", "")


def test_nearest_agent_then_root_agent_then_service(store: Store) -> None:
    def agent(span_id: str, parent: str | None, name: str, trace: str) -> dict:
        return raw_span(span_id, trace_id=trace, parent=parent, name=f"invoke_agent {name}",
                        attributes={"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": name})

    spans = [
        raw_span("root", trace_id="t1", name="workflow"),
        agent("outer", "root", "Outer", "t1"),
        raw_span("step", trace_id="t1", parent="outer"),
        agent("inner", "step", "Inner", "t1"),
        raw_span("call", trace_id="t1", parent="inner", attributes={"gen_ai.request.model": "gpt-4o"}),
        raw_span("says", trace_id="t1", parent="root", attributes={"gen_ai.agent.name": "Declared"}),
        raw_span("alone", trace_id="t2", name="no agents here", service="lonely-service"),
    ]
    with store.connect() as connection:
        normalize_spans(connection, spans)
        rows = stored(connection)
    assert {span_id: row["agent_name"] for span_id, row in rows.items()} == {
        "root": "Outer", "outer": "Outer", "step": "Outer", "inner": "Inner", "call": "Inner",
        "says": "Declared", "alone": "lonely-service"}
    assert rows["call"]["agent_uuid"] == agent_uuid_for("svc", "Inner")
    assert rows["alone"]["agent_uuid"] == agent_uuid_for("lonely-service", "lonely-service")


def test_agent_of_spans_loaded_in_a_later_file(store: Store, tmp_path: Path) -> None:
    """Children in a second file get the agent of ancestors stored by the first, and vice versa."""
    trace = "ab" * 16

    def halo_line(span_id: str, parent: str, name: str, attributes: dict, offset_ms: int) -> str:
        return json.dumps({
            "trace_id": trace, "span_id": span_id, "parent_span_id": parent, "trace_state": "", "name": name,
            "kind": "SPAN_KIND_INTERNAL", "start_time": f"2026-01-01T00:00:0{offset_ms // 1000}.{offset_ms % 1000:03d}000000Z",
            "end_time": "2026-01-01T00:00:09.000000000Z", "status": {"code": "STATUS_CODE_OK", "message": ""},
            "resource": {"attributes": {"service.name": "svc"}}, "scope": {"name": "s", "version": "1"},
            "attributes": attributes,
        })

    parents = tmp_path / "parents.jsonl"
    parents.write_text("\n".join([
        halo_line("a1", "", "task", {"openinference.span.kind": "CHAIN"}, 0),
        halo_line("a2", "a1", "agent.Helper", {"openinference.span.kind": "AGENT", "agent.name": "Helper",
                                               "llm.token_count.prompt": 30, "llm.token_count.completion": 5}, 1),
    ]) + "\n")
    children = tmp_path / "children.jsonl"
    children.write_text("\n".join([
        halo_line("b1", "a2", "response", {"openinference.span.kind": "LLM", "llm.model_name": "gpt-4o",
                                           "llm.token_count.prompt": 30, "llm.token_count.completion": 5}, 2),
        halo_line("b2", "b1", "function.grep", {"openinference.span.kind": "TOOL", "tool.name": "grep"}, 3),
    ]) + "\n")
    for order in ([parents, children], [children, parents]):
        order_store = Store(tmp_path / f"store-{order[0].stem}")
        for path in order:
            load_paths(order_store, [path])
        with order_store.connect() as connection:
            rows = stored(connection)
        assert {span_id: row["agent_name"] for span_id, row in rows.items()} == {
            "a1": "Helper", "a2": "Helper", "b1": "Helper", "b2": "Helper"}
        assert {row["agent_uuid"] for row in rows.values()} == {agent_uuid_for("svc", "Helper")}
        # the agent span's usage only repeats its child's once both files are in
        assert (rows["a2"]["counts_usage"], rows["b1"]["counts_usage"]) == (False, True)


def _split_trace_spans() -> list[dict[str, Any]]:
    """Two traces whose agents, usage and cost depend on spans far apart: an agent above a chain that
    calls a model (chain → llm once usage is known), nested usage, a priced model."""
    def usage(tokens_in: int, tokens_out: int, **extra: Any) -> dict:
        return {"gen_ai.usage.input_tokens": tokens_in, "gen_ai.usage.output_tokens": tokens_out, **extra}

    spans = []
    for trace in ("t" * 32, "u" * 32):
        spans += [
            raw_span("agent", trace_id=trace, name="invoke_agent A", attributes=usage(300, 30, **{
                "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "A"})),
            raw_span("step", trace_id=trace, parent="agent", name="step", attributes={
                "openinference.span.kind": "CHAIN", "llm.model_name": "gpt-4o", "llm.token_count.prompt": 5}),
            raw_span("c1", trace_id=trace, parent="agent", name="chat", attributes=usage(
                100, 10, **{"gen_ai.request.model": "gpt-4o"})),
            raw_span("c2", trace_id=trace, parent="c1", name="chat", attributes=usage(
                200, 20, **{"gen_ai.request.model": "gpt-4o"})),
            raw_span("tool", trace_id=trace, parent="c2", name="execute_tool t"),
        ]
    return [{**span, "source_line": line} for line, span in enumerate(spans, start=1)]


def _derived_columns(connection: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    return connection.execute(
        # The secret verdict is not compared: a trace derived after its insert is checked again at snapshot.
        "SELECT * EXCLUDE (loaded_at, source_file, source_line, secret_free_under_rules) FROM spans"
        " ORDER BY trace_id, span_id").fetchall()


def test_traces_split_across_parts_chunks_and_files_store_what_they_store_whole(
        store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A trace of one chunk that the store held nothing of is derived with its insert; one split across
    the chunks of a part, the parts of a file or several files is derived after the file, from every
    stored span of it: both end with the same columns."""
    spans = _split_trace_spans()
    with store.connect() as connection:
        whole = normalize_spans(connection, spans)
        assert whole.underived_trace_ids == []
        expected = _derived_columns(connection)
    assert {row[1]: row[13] for row in expected if row[0] == "t" * 32}["tool"] == "A"  # agent_name
    split = Store(tmp_path / "split")
    with split.connect() as connection:
        first = normalize_spans(connection, spans[:3] + spans[5:7])
        assert first.underived_trace_ids == []  # each trace derived with its insert, then...
        monkeypatch.setattr(normalize_module, "NORMALIZE_CHUNK_SPANS", 2)
        second = normalize_spans(connection, spans[3:5] + spans[7:], source_file="/tmp/other.jsonl")
        assert second.underived_trace_ids == ["t" * 32, "u" * 32]  # ...again with its spans stored before
        assert _derived_columns(connection) == expected
    chunked = Store(tmp_path / "chunked")
    with chunked.connect() as connection:
        within = normalize_spans(connection, spans)  # the traces cross the chunks of 2 spans
        assert within.underived_trace_ids == ["t" * 32, "u" * 32]
        assert _derived_columns(connection) == expected


# --- usage and cost ------------------------------------------------------------------------------------------

def test_cost_given_on_the_span_wins(store: Store) -> None:
    with store.connect() as connection:
        normalize_spans(connection, [raw_span("a", attributes={
            "gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 1000, "gen_ai.usage.output_tokens": 10,
            "operation.cost": 0.5})])
        span = stored(connection)["a"]
    assert (span["cost_usd"], span["cost_source"]) == (Decimal("0.5"), "span")


def test_computed_cost_is_genai_prices_exact_with_cache_reads_at_their_rate(store: Store) -> None:
    usage = {"input_tokens": 1_234_567, "output_tokens": 8_901, "cache_read_tokens": 1_000_000}
    attributes = {"gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o",
                  "gen_ai.usage.input_tokens": usage["input_tokens"], "gen_ai.usage.output_tokens": usage["output_tokens"]}
    with store.connect() as connection:
        normalize_spans(connection, [
            raw_span("cached", attributes={**attributes, "gen_ai.usage.cache_read.input_tokens": 1_000_000}),
            raw_span("uncached", attributes=attributes)])
        rows = stored(connection)
    cached = rows["cached"]
    assert cached["cost_source"] == "computed"
    assert cached["cost_usd"] == expected_cost("openai", "gpt-4o", cached["start_ns"], **usage)
    # gpt-4o: $2.5/M input, $1.25/M cache read, $10/M output
    assert cached["cost_usd"] == Decimal("0.234567") * Decimal("2.5") + Decimal("1.25") + Decimal("0.08901")
    assert rows["uncached"]["cost_usd"] - cached["cost_usd"] == Decimal("1.25")


def test_unknown_model_is_unpriced_never_zero_and_no_usage_no_cost(store: Store) -> None:
    with store.connect() as connection:
        normalize_spans(connection, [
            raw_span("unknown", attributes={"gen_ai.request.model": "no-such-model-xyz", "gen_ai.usage.input_tokens": 5}),
            raw_span("no-model", attributes={"gen_ai.usage.output_tokens": 5}),
            raw_span("no-usage", attributes={"gen_ai.request.model": "gpt-4o"}),
            raw_span("bad-usage", attributes={"gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 5,
                                              "gen_ai.usage.cache_read.input_tokens": 9}),
        ])
        rows = stored(connection)
    for span_id in ("unknown", "no-model", "bad-usage"):
        assert (rows[span_id]["cost_usd"], rows[span_id]["cost_source"]) == (None, "unpriced")
    assert (rows["no-usage"]["cost_usd"], rows["no-usage"]["cost_source"]) == (None, None)


def test_aggregating_spans_are_not_counted_twice(store: Store) -> None:
    def usage(tokens_in: int, tokens_out: int, **extra: Any) -> dict:
        return {"gen_ai.usage.input_tokens": tokens_in, "gen_ai.usage.output_tokens": tokens_out, **extra}

    spans = [
        raw_span("agent", name="invoke_agent A", attributes=usage(300, 30, **{"gen_ai.agent.name": "A"})),
        raw_span("step", parent="agent", name="step", attributes=usage(300, 30)),
        raw_span("c1", parent="step", name="chat", attributes=usage(100, 10, **{"gen_ai.request.model": "gpt-4o"})),
        raw_span("c2", parent="step", name="chat", attributes=usage(200, 20, **{"gen_ai.request.model": "gpt-4o"})),
        raw_span("tool", parent="agent", name="execute_tool t"),
        raw_span("lone", trace_id="u" * 32, name="agent run", attributes=usage(7, 1)),  # no leaf below: counts
    ]
    with store.connect() as connection:
        normalize_spans(connection, spans)
        counts = {span_id: row["counts_usage"] for span_id, row in stored(connection).items()}
        totals = connection.execute(
            "SELECT sum(input_tokens) FILTER (WHERE counts_usage), sum(cost_usd) FILTER (WHERE counts_usage)"
            " FROM spans WHERE trace_id = ?", ["t" * 32]).fetchone()
    assert counts == {"agent": False, "step": False, "c1": True, "c2": True, "tool": True, "lone": True}
    assert totals[0] == 300
    assert totals[1] == (expected_cost(None, "gpt-4o", BASE_NS, input_tokens=100, output_tokens=10)
                         + expected_cost(None, "gpt-4o", BASE_NS, input_tokens=200, output_tokens=20))


def test_parent_cycles_do_not_hang(store: Store) -> None:
    usage = {"gen_ai.usage.input_tokens": 1}
    with store.connect() as connection:
        normalize_spans(connection, [raw_span("a", parent="b", attributes=usage),
                                     raw_span("b", parent="a", attributes=usage),
                                     raw_span("c", parent="c", attributes=usage)])
        rows = stored(connection)
    assert set(rows) == {"a", "b", "c"}
    assert {row["agent_name"] for row in rows.values()} == {"svc"}


def test_pricing_never_uses_the_network(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    with store.connect() as connection:
        normalize_spans(connection, [raw_span("a", attributes={
            "gen_ai.request.model": "claude-sonnet-4-5", "gen_ai.usage.input_tokens": 10})])
        assert stored(connection)["a"]["cost_source"] == "computed"
