"""The planted-secret corpus, end to end: no shape reaches the LLM endpoint or an MCP client.

A run with the LLM pass (real anthropic SDK, fake Messages API) has the model call every exploration
tool, with SQL that reshapes text (upper, reverse, replace, substr); MCP `query_spans` and the CLI's
`halo-local query` get the same SQL. Whatever comes back must hold no 12-character piece of any
planted secret, as written, upper-cased or reversed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import anyio
import duckdb
import pytest
from fake_anthropic import FakeAnthropic, fake_anthropic, tool_use_message, usage  # noqa: F401  (fixture)
from mcp import Client
from runs_support import BASE, agent_traces, create_run, insert_spans, span
from secret_corpus import CORPUS, leaked_shapes

from halo_local.mcp_server import build_server
from halo_local.redact import redact, sql_macro
from halo_local.store import Store

CORPUS_TRACE = 9
TEXT_COLUMNS = ("name", "status_message", "session_id", "tool_arguments", "tool_result", "error_message",
                "input_text", "output_text", "attributes::VARCHAR", "resource_attributes::VARCHAR",
                "events::VARCHAR")
RESHAPINGS = ("{c}", "upper({c})", "reverse({c})", "replace(replace(replace({c}, '-', ' - '), '=', ' = '), '.', ' . ')",
              "substr({c}, 4)", "lower(substr({c}, 2, 60))")


def _span_id(index: int) -> str:
    return f"{CORPUS_TRACE:04x}{index:012x}"


def _corpus_spans() -> list[dict[str, Any]]:
    """The corpus as one failing trace of the analysed agent: a root and one child span per shape."""
    rows = [span(CORPUS_TRACE, 0, start=BASE, seconds=60.0, status="error")]
    for index, planted in enumerate(CORPUS, start=1):
        rows.append(span(CORPUS_TRACE, index, start=BASE, seconds=0.5, parent=0, span_type="tool",
                         tool_name="deploy", status="error", error_type="DeployError",
                         **{"name": "deploy", "error_message": "deploy failed", **planted.columns}))
    return rows


def _queries() -> list[str]:
    return [f"SELECT span_id, {shape.format(c=column)} AS text FROM spans WHERE {column} IS NOT NULL ORDER BY span_id"
            for column in TEXT_COLUMNS for shape in RESHAPINGS]


def test_the_corpus_is_large_and_each_shape_is_named_once() -> None:
    assert len(CORPUS) >= 40
    assert len({planted.name for planted in CORPUS}) == len(CORPUS)


@pytest.mark.parametrize("planted", CORPUS, ids=[planted.name for planted in CORPUS])
def test_each_shape_is_redacted_in_python_and_in_duckdb_alike(planted: Any) -> None:
    connection = duckdb.connect()
    connection.execute(sql_macro())
    for text in planted.columns.values():
        in_python = redact(text)
        assert leaked_shapes([in_python], [planted]) == [], in_python
        assert connection.execute("SELECT redact_secrets($text)", {"text": text}).fetchall()[0][0] == in_python


def test_no_planted_secret_reaches_the_llm_endpoint(store: Store, fake_anthropic: FakeAnthropic) -> None:
    insert_spans(store, agent_traces(2) + _corpus_spans())
    trace_id = f"{CORPUS_TRACE:032x}"
    fake_anthropic.push(
        tool_use_message([("run_sql", {"sql": sql}) for sql in _queries()], tokens=usage(1000, 100)),
        tool_use_message([("get_span", {"span_id": _span_id(index), "trace_id": trace_id})
                          for index in range(1, len(CORPUS) + 1)]),
        tool_use_message([("view_trace", {"trace_id": trace_id})]
                         + [("search_spans", {"text": word}) for word in ("key", "password", "token", "auth", "secret",
                                                                            "sig=", "hooks", "PASS", "glpat", "SG.")]),
        tool_use_message([("submit_analysis", {"summary": "deploy fails in every span of one trace.", "notes": []})]),
    )

    run = create_run(store)

    assert run["status"] == "completed" and run["llm"]["ran"] is True, run["statusReason"]
    assert len(fake_anthropic.message_requests) == 4
    sent = fake_anthropic.all_sent_text()
    assert "deploy failed" in sent and "[REDACTED]" in sent  # the tools' answers did arrive
    leaked = leaked_shapes([sent])
    assert leaked == [], f"{len(leaked)} of {len(CORPUS)} shapes reached the endpoint: {leaked}"


def test_no_planted_secret_comes_back_through_mcp(store: Store) -> None:
    insert_spans(store, agent_traces(2) + _corpus_spans())
    server, tools = build_server(store)
    answers: list[str] = []

    async def main() -> None:
        async with Client(server) as client:
            for sql in _queries():
                result = await client.call_tool("query_spans", {"sql": sql})
                assert not result.is_error, result.content[0].text
                answers.append(result.content[0].text)
            tree = await client.call_tool("view_trace", {"trace_id": f"{CORPUS_TRACE:032x}"})
            answers.append(tree.content[0].text)

    try:
        anyio.run(main)
    finally:
        tools.sandboxes.close()

    assert sum(json.loads(answer)["rowCount"] for answer in answers[:-1]) >= len(CORPUS) * len(RESHAPINGS)
    leaked = leaked_shapes(answers)
    assert leaked == [], f"{len(leaked)} of {len(CORPUS)} shapes came back: {leaked}"


def test_the_query_command_shows_no_planted_secret(store: Store) -> None:
    insert_spans(store, _corpus_spans())
    sql = "SELECT upper(attributes::VARCHAR), reverse(tool_arguments), substr(output_text, 3) FROM spans"
    env = {**os.environ, "HALO_HOME": str(store.home)}
    done = subprocess.run([sys.executable, "-m", "halo_local.cli", "query", sql, "--json"], capture_output=True,
                          text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["rows"]) == len(CORPUS) + 1
    leaked = leaked_shapes([done.stdout])
    assert leaked == [], f"{len(leaked)} of {len(CORPUS)} shapes shown: {leaked}"
