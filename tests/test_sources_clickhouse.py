"""The ClickHouse source against the real engine: chDB in-process through clickhouse-connect's chDB
backend (the client calls production sends over HTTP), over an `otel_traces` table made with the
collector exporter's columns and holding the repo's fixtures. Parity: the same spans loaded
locally and read from ClickHouse give the same agents, overview numbers and findings."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("clickhouse_connect")
pytest.importorskip("chdb")

from clickhouse_support import create_exporter_table, export_store  # noqa: E402

from halo_local import traces  # noqa: E402
from halo_local.errors import NotFoundError, UsageError  # noqa: E402
from halo_local.heuristics.analysis import analyze  # noqa: E402
from halo_local.ingest import load_paths  # noqa: E402
from halo_local.resources import clickhouse_string  # noqa: E402
from halo_local.sources.clickhouse import ClickHouseSource, SourceError, open_client  # noqa: E402
from halo_local.sources.overview import local_overview  # noqa: E402
from halo_local.sources.snapshot import store_selection  # noqa: E402
from halo_local.sources.url import SourceUrlError, parse_source_url  # noqa: E402
from halo_local.store import Store  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"
PARITY_FILES = (FIXTURES / "halo" / "realistic_traces.jsonl", FIXTURES / "vercel-ai-sdk")
WINDOW = (datetime(2000, 1, 1), datetime(2100, 1, 1))
HTTP_URL = os.environ.get("HALO_TEST_CLICKHOUSE_URL")


@pytest.fixture(scope="module")
def local_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = Store(tmp_path_factory.mktemp("local-home"))
    load_paths(store, PARITY_FILES)
    return store


@pytest.fixture(scope="module")
def chdb_url(tmp_path_factory: pytest.TempPathFactory, local_store: Store) -> str:
    """A chDB folder (one per test process: chDB opens one) with the fixtures in otel.otel_traces, a table
    without the exporter's columns, and a view that cannot finish within a one-second limit."""
    folder = tmp_path_factory.mktemp("chdb")
    url = f"chdb://{folder}?table=otel.otel_traces"
    client = open_client(parse_source_url(url))
    create_exporter_table(client, "otel")
    export_store(local_store, client, "otel")
    client.command("CREATE TABLE otel.not_traces (Timestamp DateTime64(9), TraceId String) ENGINE = MergeTree ORDER BY Timestamp")
    client.command("CREATE VIEW otel.slow_traces AS SELECT * FROM otel.otel_traces WHERE sleepEachRow(0.05) = 0"
                   " SETTINGS max_block_size = 1")
    return url


@pytest.fixture(scope="module")
def source(chdb_url: str, local_store: Store) -> ClickHouseSource:
    """The chDB source; with HALO_TEST_CLICKHOUSE_URL set, that server's table (emptied, then filled with
    the same fixtures), so the same suite runs over HTTP."""
    if HTTP_URL is None:
        return ClickHouseSource(parse_source_url(chdb_url))
    url = parse_source_url(HTTP_URL)
    client = open_client(url)
    create_exporter_table(client, url.database, url.table)
    client.command(f"TRUNCATE TABLE {url.qualified_table}")
    export_store(local_store, client, url.database, url.table)
    return ClickHouseSource(url)


def _otlp_span(index: int, start: datetime, attributes: dict[str, Any], *, parent: int | None = 0) -> dict[str, Any]:
    start_ns = int((start - datetime(1970, 1, 1)).total_seconds() * 1e9)
    return {"traceId": f"{index // 100 + 1:032x}", "spanId": f"{index + 1:016x}",
            "parentSpanId": f"{(index // 100) * 100 + 1:016x}" if parent is not None else "",
            "name": str(attributes.get("gen_ai.operation.name", "span")), "kind": 1,
            "startTimeUnixNano": str(start_ns), "endTimeUnixNano": str(start_ns + 2_000_000_000),
            "attributes": [{"key": key, "value": {"stringValue": str(value)}} for key, value in attributes.items()]}


def test_mapping_values_enter_clickhouse_sql_as_literals_the_engine_reads_back(source: ClickHouseSource) -> None:
    """The one filter through which mapping keys, patterns and paths enter generated ClickHouse SQL."""
    awkward = ["it's", "back\\slash", "\\'; SELECT 1 --", "tab\tnew\nline", "ключ"]
    rows = source._connected().query("SELECT " + ", ".join(clickhouse_string(value) for value in awkward)).result_rows
    assert list(rows[0]) == awkward


@pytest.mark.skipif(HTTP_URL is not None, reason="the priced table is made in the chDB folder")
def test_the_cluster_prices_each_call_as_the_local_normalizer(chdb_url: str, tmp_path: Path) -> None:
    """(First of the file's tests: it writes a table into the chDB folder before a source query makes the
    in-process session read-only.) Tiers (gemini past 128k input tokens), time-of-day rules (deepseek off-peak), cache reads, a provider
    alias, a cost given on the span, an unknown model and usage genai-prices rejects: the same decimals."""
    day = datetime(2026, 3, 2)
    calls = [
        ({"gen_ai.provider.name": "gcp.vertex_ai", "gen_ai.request.model": "gemini-1.5-pro",
          "gen_ai.usage.input_tokens": 200_000, "gen_ai.usage.output_tokens": 900}, 1),
        ({"gen_ai.provider.name": "gcp.vertex_ai", "gen_ai.request.model": "gemini-1.5-pro",
          "gen_ai.usage.input_tokens": 1_000, "gen_ai.usage.output_tokens": 90}, 2),
        ({"gen_ai.system": "deepseek", "gen_ai.request.model": "deepseek-chat",
          "gen_ai.usage.input_tokens": 7_001, "gen_ai.usage.output_tokens": 333}, 3),
        ({"gen_ai.system": "deepseek", "gen_ai.request.model": "deepseek-chat",
          "gen_ai.usage.input_tokens": 7_001, "gen_ai.usage.output_tokens": 333}, 20),
        ({"gen_ai.system": "anthropic", "gen_ai.request.model": "claude-3-5-sonnet-latest",
          "gen_ai.usage.input_tokens": 2_000, "gen_ai.usage.cache_read.input_tokens": 500,
          "gen_ai.usage.output_tokens": 77}, 4),
        ({"gen_ai.system": "anthropic", "gen_ai.request.model": "claude-3-5-sonnet-latest",
          "gen_ai.usage.input_tokens": 100, "gen_ai.usage.cache_read.input_tokens": 500}, 5),
        ({"gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 10,
          "gen_ai.usage.cost": "0.0123"}, 6),
        ({"gen_ai.system": "openai", "gen_ai.request.model": "mystery-1", "gen_ai.usage.input_tokens": 10}, 7),
    ]
    spans = []
    for trace, (attributes, hour) in enumerate(calls):
        start = day.replace(hour=hour)
        spans.append(_otlp_span(trace * 100, start, {"gen_ai.operation.name": "invoke_agent",
                                                     "gen_ai.agent.name": "pricer"}, parent=None))
        spans.append(_otlp_span(trace * 100 + 1, start, {"gen_ai.operation.name": "chat", **attributes}))
    path = tmp_path / "priced.json"
    path.write_text(json.dumps({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "priced-svc"}}]},
        "scopeSpans": [{"scope": {"name": "test"}, "spans": spans}]}]}), encoding="utf-8")
    store = Store(tmp_path / "home")
    load_paths(store, [path])
    client = open_client(parse_source_url(chdb_url))
    create_exporter_table(client, "otel", "priced_traces")
    export_store(store, client, "otel", "priced_traces")
    priced = ClickHouseSource(parse_source_url(chdb_url.replace("otel.otel_traces", "otel.priced_traces")))

    [agent] = traces.list_agents(store, time_range="all")
    remote = priced.overview(agent["agentUuid"], *WINDOW)
    assert remote == _local_overview(store, agent)
    models = {row["model"]: row for row in remote["models"]}
    assert models["gemini-1.5-pro"]["provider"] == "google" and models["gemini-1.5-pro"]["cost_usd"] > 0
    assert models["mystery-1"]["cost_usd"] is None and remote["totals"]["unpriced_spans"] == 2
    assert remote["totals"]["unpriced_models"] == ["claude-3-5-sonnet-latest", "mystery-1"]


def _span_count(source: ClickHouseSource) -> int:
    client = source._connected()
    return client.query(f"SELECT count() FROM {source.url.qualified_table}").result_rows[0][0]


def test_agent_list_matches_the_local_load(source: ClickHouseSource, local_store: Store) -> None:
    assert source.agents(None) == traces.list_agents(local_store, time_range="all")


@pytest.fixture(scope="module")
def agents(local_store: Store) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in traces.list_agents(local_store, time_range="all")}


def _local_overview(store: Store, agent: dict[str, Any]) -> dict[str, Any]:
    with store.connect() as connection:
        return local_overview(connection, agent_uuid=agent["agentUuid"], window_start=WINDOW[0], window_end=WINDOW[1])


def test_overview_matches_the_local_overview(source: ClickHouseSource, local_store: Store,
                                             agents: dict[str, dict[str, Any]]) -> None:
    # The Vercel capture lost its trace context: its wrappers' usage is told apart across traces.
    agent = agents["openinference-vercel-fixture-capture"]
    remote = source.overview(agent["agentUuid"], *WINDOW)
    assert remote == _local_overview(local_store, agent)
    assert remote["totals"]["spans"] == agent["spanCount"] and remote["totals"]["input_tokens"] > 0
    # priced in the cluster with the rates genai-prices gives the local normalizer: the same decimals
    assert remote["totals"]["cost_usd"] > 0 and all(row["cost_usd"] > 0 for row in remote["models"])


def test_selection_is_capped_overview_is_not_and_findings_match(
        source: ClickHouseSource, local_store: Store, agents: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    agent = agents["HaloCodeHelper"]
    key = agent["agentUuid"]
    small, whole = source.selection(key, *WINDOW, span_limit=20), source.selection(key, *WINDOW, span_limit=10_000)
    assert small.num_rows <= 20 < whole.num_rows == agent["spanCount"]
    assert small.nbytes < whole.nbytes  # the bytes fetched follow the span limit, not the window
    overview = source.overview(key, *WINDOW)
    assert overview == _local_overview(local_store, agent)
    assert overview["totals"]["spans"] == agent["spanCount"] > 20  # window-wide, exact, past the span limit
    assert overview["tools"] and overview["failures"]

    fetched = Store(tmp_path / "fetched-home")
    stored = store_selection(fetched, whole, source=str(source.url))
    assert (stored.spans_new, stored.duplicates) == (agent["spanCount"], 0)
    with local_store.connect() as connection:
        local_findings = analyze(connection, agent_uuid=agent["agentUuid"], table="spans").findings
    with fetched.connect() as connection:
        remote_findings = analyze(connection, agent_uuid=agent["agentUuid"], table="spans").findings
        sources = connection.execute("SELECT DISTINCT source_file FROM spans").fetchall()
    assert local_findings, "the fixture must give findings for the comparison to mean something"
    assert [finding.to_json() for finding in remote_findings] == [finding.to_json() for finding in local_findings]
    assert sources == [(str(source.url),)]


@pytest.mark.skipif(HTTP_URL is not None, reason="the chDB tables of these cases exist only in-process")
@pytest.mark.parametrize(("table", "timeout", "expected"), [
    ("missing_traces", 60, "does not exist"),
    ("not_traces", 60, "is not an OpenTelemetry Collector ClickHouse exporter table"),
    ("slow_traces", 1, "ran past its time limit of 1s"),
])
def test_unreadable_tables_fail_with_one_clear_error_and_write_nothing(
        source: ClickHouseSource, chdb_url: str, table: str, timeout: int, expected: str) -> None:
    before = _span_count(source)
    broken = ClickHouseSource(parse_source_url(
        chdb_url.replace("otel.otel_traces", f"otel.{table}") + f"&timeout={timeout}"))
    with pytest.raises(SourceError) as caught:
        broken.agents(None)
    assert expected in caught.value.message
    assert f"otel.{table}" in caught.value.message
    assert _span_count(source) == before


@pytest.mark.parametrize("url", [
    "postgres://user@host/db", "clickhouse://user:pw@/db", "chdb:///tmp/folder",
    "clickhouse://user@host:8123/db?table=otel_traces;drop", "clickhouse://user@host:8123/db?tabel=x",
    "clickhouse://user@host:notaport/db",
])
def test_bad_urls_are_usage_errors_without_the_password(url: str) -> None:
    with pytest.raises(SourceUrlError) as caught:
        parse_source_url(url)
    assert "pw" not in caught.value.message.replace("postgres", "")


def test_url_options_and_redaction() -> None:
    url = parse_source_url("clickhouses://ana:s3cr%40t@ch.example:9440/traces?table=spans&ca_cert=/etc/ca.pem&timeout=5",
                           environ={})
    assert (url.host, url.port, url.user, url.password, url.database, url.table, url.secure) == (
        "ch.example", 9440, "ana", "s3cr@t", "traces", "spans", True)
    assert url.timeout_seconds == 5 and dict(url.tls_options) == {"ca_cert": "/etc/ca.pem"}
    assert "s3cr" not in url.redacted() and "s3cr" not in repr(url)
    from_env = parse_source_url("clickhouse://ana@ch.example/traces", environ={"HALO_CLICKHOUSE_PASSWORD": "envpw"})
    assert (from_env.password, from_env.port, from_env.table) == ("envpw", 8123, "otel_traces")


class _RefusingServer(BaseHTTPRequestHandler):
    """Answers every request as a ClickHouse server answers a wrong password."""

    def _refuse(self) -> None:
        body = (b"Code: 516. DB::Exception: ana: Authentication failed: password is incorrect, or there is no "
                b"user with such name. (AUTHENTICATION_FAILED) (version 25.8.1.1)\n")
        self.send_response(516)
        self.send_header("X-ClickHouse-Exception-Code", "516")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _refuse

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def refusing_server() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RefusingServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_wrong_credentials_name_the_source_not_the_password(refusing_server: int) -> None:
    source = ClickHouseSource(parse_source_url(
        f"clickhouse://ana:hunter2@127.0.0.1:{refusing_server}/default?table=otel_traces"))
    with pytest.raises(SourceError) as caught:
        source.agents(None)
    text = f"{caught.value.message} {caught.value.hint}"
    assert "authentication failed for user 'ana'" in text
    assert f"127.0.0.1:{refusing_server}" in text and "hunter2" not in text


def test_agent_list_command_reads_a_source_by_url_or_name(chdb_url: str, local_store: Store,
                                                          isolated_home: Path) -> None:
    from halo_local.cli.source_commands import SourceCommands
    from halo_local.cli.trace_commands import AgentCommands

    expected = traces.list_agents(local_store, time_range="all")
    assert AgentCommands().list(time_range="all", source=chdb_url).data == expected
    SourceCommands().add("fixtures", chdb_url)
    assert SourceCommands().list().data == [{"name": "fixtures", "url": chdb_url}]
    assert AgentCommands().list(time_range="all", source="fixtures").data == expected
    with pytest.raises(SourceUrlError.__mro__[1]) as caught:
        SourceCommands().add("with-password", "clickhouse://ana:hunter2@ch.example:8123/otel")
    assert "hunter2" not in caught.value.message
    with Store(isolated_home).connect() as connection:
        assert "hunter2" not in str(connection.execute("SELECT * FROM named_sources").fetchall())


def test_trace_and_span_commands_read_the_source_like_the_local_store(chdb_url: str, local_store: Store,
                                                                       isolated_home: Path) -> None:
    from halo_local.cli.trace_commands import SpanCommands, TraceCommands

    local = traces.list_traces(local_store, agent="HaloCodeHelper", time_range="all", limit=5)
    remote = TraceCommands().list(agent="HaloCodeHelper", time_range="all", limit=5, source=chdb_url).data
    assert remote == local and local
    everything = traces.list_traces(local_store, time_range="all", errors_only=True, limit=3)
    assert TraceCommands().list(time_range="all", errors_only=True, limit=3, source=chdb_url).data == everything
    trace_id = local[0]["traceId"]
    assert TraceCommands().get(trace_id, source=chdb_url).data == traces.get_trace(local_store, trace_id)
    span = traces.get_trace(local_store, trace_id)["spans"][-1]
    remote_span = SpanCommands().get(span["spanId"], source=chdb_url).data
    local_span = traces.get_span(local_store, span["spanId"])
    raw = {"sourceFile", "sourceLine", "attributes", "resourceAttributes"}  # as exported: a map of strings
    assert {key: value for key, value in remote_span.items() if key not in raw} == {
        key: value for key, value in local_span.items() if key not in raw}
    with pytest.raises(NotFoundError, match="no trace with id 'feedface' in chdb://"):
        TraceCommands().get("feedface", source=chdb_url)
    with Store(isolated_home).connect() as connection:
        assert connection.execute("SELECT count(*) FROM spans").fetchall() == [(0,)]


def test_a_run_over_the_source_reads_the_cluster_and_reports_the_whole_window(
        chdb_url: str, agents: dict[str, dict[str, Any]], isolated_home: Path) -> None:
    from halo_local.cli.run_commands import RunCommands

    agent = agents["HaloCodeHelper"]
    run = RunCommands().create(agent_uuid=agent["agentUuid"], window_start_at="2000-01-01T00:00:00Z",
                               window_end_at="2100-01-01T00:00:00Z", span_limit=20, no_llm=True, wait=True,
                               source=chdb_url).data
    assert run["status"] == "completed", run["statusReason"]
    document = RunCommands().get(run["runId"]).data
    assert document["source"] == chdb_url
    dataset = document["traceDataset"]
    assert dataset["spans"] <= 20 < dataset["spansInWindow"] == agent["spanCount"]
    assert dataset["tracesInWindow"] == agent["traceCount"] and dataset["truncated"]
    report = Path(document["reportPath"]).read_text(encoding="utf-8")
    assert f"| Source | `{chdb_url}`" in report
    assert f"| Traces | {agent['traceCount']} in the window; the findings read " in report
    assert f"| Spans | {agent['spanCount']} in the window, {dataset['spans']} read" in report
    with Store(isolated_home).connect() as connection:
        assert connection.execute("SELECT DISTINCT source_file FROM spans").fetchall() == [(chdb_url,)]


def _cli_json(capsys: pytest.CaptureFixture[str], *args: str, code: int = 0) -> Any:
    from halo_local import cli

    assert cli.main([*args, "--json"]) == code, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def test_a_schedule_over_a_named_source_fires_and_reports(
        chdb_url: str, agents: dict[str, dict[str, Any]], isolated_home: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    agent = agents["HaloCodeHelper"]
    _cli_json(capsys, "sources", "add", "cluster", chdb_url)
    created = _cli_json(capsys, "schedule", "create", "--title", "Hourly from ClickHouse", "--agent-uuid",
                        agent["name"], "--frequency", "hourly", "--minutes", "0",
                        "--lookback-hours", str(24 * 365 * 50), "--source", "cluster")
    assert created["agentUuid"] == agent["agentUuid"]
    ticked = _cli_json(capsys, "schedule", "tick", "--now", created["nextRunAt"])
    [fired] = ticked["fired"]
    assert fired["error"] is None
    from halo_local import cli

    assert cli.main(["run", "poll", fired["runId"], "--interval", "0.5"]) == 0
    capsys.readouterr()
    run = _cli_json(capsys, "run", "get", fired["runId"])
    assert run["source"] == chdb_url and run["traceDataset"]["spans"] == agent["spanCount"]
    assert f"| Source | `{chdb_url}`" in Path(run["reportPath"]).read_text(encoding="utf-8")
    with pytest.raises(UsageError, match="at most one ClickHouse source"):
        from halo_local.cli.schedule_commands import ScheduleCommands

        ScheduleCommands().update(created["scheduleId"], source=("cluster", chdb_url))


@pytest.mark.skipif(HTTP_URL is not None, reason="the chDB tables of these cases exist only in-process")
@pytest.mark.parametrize(("command", "table"), [
    (("agent", "list", "--time-range", "all"), "missing_traces"),
    (("trace", "list", "--time-range", "all"), "slow_traces"),
    (("trace", "get", "abc"), "not_traces"),
    (("span", "get", "abc"), "missing_traces"),
    (("run", "create", "--agent-uuid", "HaloCodeHelper", "--no-llm"), "not_traces"),
    (("analyze", "--no-llm"), "missing_traces"),
])
def test_commands_over_an_unreadable_source_fail_with_one_clear_error(
        source: ClickHouseSource, chdb_url: str, isolated_home: Path, capsys: pytest.CaptureFixture[str],
        command: tuple[str, ...], table: str) -> None:
    from halo_local import cli

    broken = chdb_url.replace("otel.otel_traces", f"otel.{table}") + "&timeout=1"
    before = _span_count(source)
    assert cli.main([*command, "--source", broken, "--json"]) == 1
    captured = capsys.readouterr()
    error = json.loads(captured.out)["error"]
    named = parse_source_url(broken).redacted()
    assert error["message"].startswith(f"ClickHouse source {named}: ") and error["exitCode"] == 1
    assert captured.err.count("Error: ") == 1
    assert _span_count(source) == before
    with Store(isolated_home).connect() as connection:
        assert connection.execute("SELECT count(*) FROM runs").fetchall() == [(0,)]


def test_a_bad_source_url_is_a_usage_error(isolated_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from halo_local import cli

    assert cli.main(["trace", "list", "--source", "clickhouse://ana:hunter2@/otel"]) == 2
    err = capsys.readouterr().err
    assert "bad source URL" in err and "hunter2" not in err


def test_analyze_over_the_source_reports_its_busiest_agent(
        chdb_url: str, local_store: Store, isolated_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    busiest = max(traces.list_agents(local_store, time_range="all"), key=lambda item: item["spanCount"])
    result = _cli_json(capsys, "analyze", "--source", chdb_url, "--no-llm")
    assert (result["status"], result["agentUuid"], result["source"]) == ("completed", busiest["agentUuid"], chdb_url)
    assert result["report"].startswith("# Trace analysis") and f"| Source | `{chdb_url}`" in result["report"]
    assert result["otherAgents"]

