"""Read an OpenTelemetry Collector `otel_traces` table in ClickHouse, read-only, heavy work in the cluster.

The cluster discovers agents, selects a run's window (agent, time, error traces first, whole traces,
span limit) and computes the window-wide overview; halo-local fetches only the selection, as Arrow,
and normalizes it like a loaded file (see `snapshot.py`). Every query runs with readonly=2, a time
limit and a row cap. The client is clickhouse-connect over HTTP(S), or its chDB backend (the same
client calls, run in-process by the embedded engine) for `chdb://` sources.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from halo_local.common.agents import AGENT_NAMESPACE, agent_uuid_for
from halo_local.errors import HaloLocalError
from halo_local.resources import sql_template, sql_text
from halo_local.sources.dialect import FIELD_CASTS, MappedField, mapped_fields, usage_wrappers
from halo_local.sources.overview import OVERVIEW_ROW_LIMIT, OVERVIEW_SECTIONS, iso_from_ns
from halo_local.sources.url import PASSWORD_ENV, SourceUrl

if TYPE_CHECKING:
    import pyarrow as pa

# The exporter's columns halo-local reads (name -> type prefix); other columns are ignored.
EXPORTER_COLUMNS = {
    "Timestamp": "DateTime64(9", "TraceId": "String", "SpanId": "String", "ParentSpanId": "String",
    "TraceState": "String", "SpanName": "LowCardinality(String)", "SpanKind": "LowCardinality(String)",
    "ServiceName": "LowCardinality(String)", "ResourceAttributes": "Map(LowCardinality(String), String)",
    "ScopeName": "String", "ScopeVersion": "String", "SpanAttributes": "Map(LowCardinality(String), String)",
    "Duration": "UInt64", "StatusCode": "LowCardinality(String)", "StatusMessage": "String",
    "Events.Timestamp": "Array(DateTime64(9", "Events.Name": "Array(LowCardinality(String))",
    "Events.Attributes": "Array(Map(LowCardinality(String), String))", "Links.TraceId": "Array(String)",
    "Links.SpanId": "Array(String)", "Links.Attributes": "Array(Map(LowCardinality(String), String))",
}
# Pointer-jumping rounds of the agent walk (clickhouse/_agent_spans.sql): traces up to 2^12 levels deep.
JUMP_ROUNDS = 12
# The mapped fields clickhouse/price_models.sql reads.
_PRICE_FIELDS = {"model", "provider_raw", "input_tokens", "output_tokens", "cache_read_tokens",
                 "cache_write_tokens", "cost_usd"}
_CHDB_LOCK = threading.Lock()
_chdb_clients: dict[str, Any] = {}
# ClickHouse error codes and what they mean to someone pointing halo-local at a table.
_MISSING_TABLE_CODES = {60, 81}  # UNKNOWN_TABLE, UNKNOWN_DATABASE
_AUTH_CODES = {516, 192, 193, 194}  # AUTHENTICATION_FAILED, UNKNOWN_USER, WRONG_PASSWORD, REQUIRED_PASSWORD
_TIMEOUT_CODES = {159, 394}  # TIMEOUT_EXCEEDED, QUERY_WAS_CANCELLED
_ROW_CAP_CODES = {158, 396}  # TOO_MANY_ROWS, TOO_MANY_ROWS_OR_BYTES
_READONLY_CODES = {164}
_MISSING_TABLE = (frozenset(_MISSING_TABLE_CODES), "table {table} does not exist",
                  "name the table the collector's ClickHouse exporter writes (?table=otel_traces)")
# What each family of failures means, in the order they are tried; the last (no code) is an unreachable server.
_EXPLANATIONS: tuple[tuple[frozenset[int], str, str], ...] = (
    (frozenset(_AUTH_CODES), "authentication failed for user {user!r}",
     "check the user and the password (set {env}, or put it in the URL)"),
    _MISSING_TABLE,
    (frozenset(_TIMEOUT_CODES), "the query ran past its time limit of {timeout}s",
     "narrow the time window, or raise it with ?timeout=SECONDS in the URL"),
    (frozenset(_ROW_CAP_CODES), "the query would return more than {max_rows} rows",
     "lower the span limit or the window, or raise ?max_rows= in the URL"),
    (frozenset(_READONLY_CODES), "the server refused a setting in read-only mode: {detail}",
     "halo-local only reads; give its user readonly=2 (or 0) so it can set limits"),
    (frozenset(), "cannot connect: {detail}", "check the host, the port (8123 HTTP, 8443 HTTPS) and the TLS options"),
)


class SourceError(HaloLocalError):
    """A ClickHouse source that cannot be read: the message names it (password redacted)."""


class ClickHouseSource:
    """One `otel_traces` table; every method is one or a few read-only queries."""

    def __init__(self, url: SourceUrl) -> None:
        self.url = url
        self._client: Any = None
        self._checked = False
        self._agents_by_since: dict[datetime | None, list[dict[str, Any]]] = {}

    # -- queries -------------------------------------------------------------------------------

    def agents(self, since: datetime | None) -> list[dict[str, Any]]:
        """Agents with spans since `since` (None: all time), as traces.list_agents returns them; asked once
        per source object (the agent walk is the costliest query, and a run resolves its agent twice)."""
        if since in self._agents_by_since:
            return [dict(item) for item in self._agents_by_since[since]]
        rows = self._rows("clickhouse/agents.sql", self._window("", since, None))
        agents = []
        for service, name, traces, spans, errors, first_ns, last_ns in rows:
            agents.append({
                "agentUuid": agent_uuid_for(service, name), "name": name, "serviceName": service,
                "traceCount": traces, "spanCount": spans, "errorCount": errors,
                "firstSeenAt": iso_from_ns(first_ns), "lastSeenAt": iso_from_ns(last_ns),
            })
        self._agents_by_since[since] = _latest_first(agents)
        return [dict(item) for item in self._agents_by_since[since]]

    def selection(self, agent_uuid: str, window_start: datetime, window_end: datetime, span_limit: int, *,
                  with_previous: bool = False) -> pa.Table:
        """The run's window selection (runs/snapshot.sql's rules) as the exported columns, one row a span; with
        `with_previous`, the previous window's (as long, just before) selected the same way in the same walk."""
        start = window_start - (window_end - window_start) if with_previous else window_start
        return self._arrow("clickhouse/selection.sql", {
            **self._window(agent_uuid, start, window_end), "span_limit": int(span_limit),
            "previous_end_us": _micros(window_start) if with_previous else None})

    def overview(self, agent_uuid: str, window_start: datetime, window_end: datetime) -> dict[str, Any]:
        """The window-wide overview (every span of the window, however many): totals, models (priced as
        local spans are), tools, failures — the same document overview.local_overview makes from the local store."""
        from halo_local.sources.prices import price_parameters  # genai-prices and pyarrow: not at CLI start-up

        window = self._window(agent_uuid, window_start, window_end)
        pairs = self._rows("clickhouse/price_models.sql", window,
                           fields=mapped_fields(tuple(name for name in FIELD_CASTS if name in _PRICE_FIELDS)))
        names, rows = self._named_rows("clickhouse/overview.sql", {
            **window, **price_parameters(pairs), "row_limit": OVERVIEW_ROW_LIMIT})
        totals = dict(zip(names, rows[0], strict=True))
        totals["first_span_at"] = iso_from_ns(totals.pop("first_start_ns"))
        totals["last_span_at"] = iso_from_ns(totals.pop("last_end_ns"))
        sections = {section: [dict(zip(columns, row, strict=True)) for row in totals.pop(section)]
                    for section, columns in OVERVIEW_SECTIONS.items()}
        return {"totals": totals, **sections}

    def trace_spans(self, *, trace_id: str | None, span_id: str | None, span_limit: int) -> pa.Table:
        """Every span of the trace `trace_id`, or of the traces holding `span_id`, as selection() returns them."""
        return self._arrow("clickhouse/trace_spans.sql", {"trace_id": trace_id, "span_id": span_id,
                                                          "span_limit": int(span_limit)})

    def recent_traces(self, agent_uuid: str | None, since: datetime | None, *, errors_only: bool, trace_limit: int,
                      span_limit: int) -> pa.Table:
        """The spans of the newest `trace_limit` traces since `since` (of the agent when given), whole."""
        return self._arrow("clickhouse/recent_traces.sql", {
            **self._window(agent_uuid or "", since, None), "errors_only": bool(errors_only),
            "trace_limit": int(trace_limit), "span_limit": int(span_limit)}, agent=agent_uuid is not None)

    # -- plumbing ------------------------------------------------------------------------------

    def _window(self, agent_uuid: str, window_start: datetime | None, window_end: datetime | None) -> dict[str, Any]:
        return {"window_start_us": _micros(window_start), "window_end_us": _micros(window_end),
                "agent_uuid": agent_uuid, "agent_namespace": AGENT_NAMESPACE.hex}

    def _name(self) -> str:
        return f"ClickHouse source {self.url.redacted()}"

    def _render(self, template: str, parameters: Mapping[str, Any], *,
                fields: tuple[MappedField, ...] | None = None, **shape: Any) -> tuple[str, dict[str, Any]]:
        sql = sql_template(template, table=self.url.qualified_table, jump_rounds=JUMP_ROUNDS,
                           fields=fields or mapped_fields(), **shape)
        values = {**parameters, "wrapper_names": [wrapper for wrapper, _ in usage_wrappers()],
                  "inner_names": [inner for _, inner in usage_wrappers()]}
        return sql, values

    def _settings(self) -> dict[str, Any]:
        return {"readonly": 2, "max_execution_time": self.url.timeout_seconds, "timeout_overflow_mode": "throw",
                "max_result_rows": self.url.max_rows, "result_overflow_mode": "throw", "join_use_nulls": 1,
                "enable_materialized_cte": 1, "prefer_column_name_to_alias": 1}

    def _rows(self, template: str, parameters: Mapping[str, Any], *,
              fields: tuple[MappedField, ...] | None = None) -> list[tuple[Any, ...]]:
        return self._named_rows(template, parameters, fields=fields)[1]

    def _named_rows(self, template: str, parameters: Mapping[str, Any], *,
                    fields: tuple[MappedField, ...] | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
        sql, values = self._render(template, parameters, fields=fields)
        result = self._call(lambda client: client.query(sql, parameters=values, settings=self._settings()))
        return list(result.column_names), [tuple(row) for row in result.result_rows]

    def _arrow(self, template: str, parameters: Mapping[str, Any], **shape: Any) -> pa.Table:
        sql, values = self._render(template, parameters, **shape)
        return self._call(lambda client: client.query_arrow(sql, parameters=values, settings=self._settings(),
                                                            use_strings=True))

    def _call(self, work: Any) -> Any:
        """Run `work(client)` after checking the table, with every failure a SourceError naming the source."""
        try:
            client = self._connected()
            if not self._checked:
                self._check_table(client)
                self._checked = True
            return work(client)
        except SourceError:
            raise
        except Exception as error:  # clickhouse-connect and chDB raise their own families
            raise self._explained(error) from None

    def _connected(self) -> Any:
        if self._client is None:
            self._client = open_client(self.url)
        return self._client

    def _check_table(self, client: Any) -> None:
        """SourceError unless the table exists and has the exporter's columns."""
        result = client.query(sql_text("clickhouse/exporter_columns.sql"),
                              parameters={"database": self.url.database, "table": self.url.table},
                              settings={"readonly": 2, "max_execution_time": self.url.timeout_seconds})
        columns = {name: kind for name, kind in result.result_rows}
        if not columns:
            _, message, hint = _MISSING_TABLE
            raise SourceError(f"{self._name()}: {message.format(table=f'{self.url.database}.{self.url.table}')}",
                              hint=hint)
        missing = [name for name, kind in EXPORTER_COLUMNS.items()
                   if name not in columns or not columns[name].startswith(kind)]
        if missing:
            raise SourceError(
                f"{self._name()}: table {self.url.database}.{self.url.table} is not an OpenTelemetry Collector "
                f"ClickHouse exporter table (missing or different: {', '.join(missing)})",
                hint="point --source at the traces table the collector's clickhouse exporter created")

    def _explained(self, error: BaseException) -> SourceError:
        """The SourceError for a failed query or connection, its text scrubbed of the password."""
        text = self._scrubbed(str(error))
        code = _error_code(text)
        facts = {"table": f"{self.url.database}.{self.url.table}", "user": self.url.user, "env": PASSWORD_ENV,
                 "timeout": self.url.timeout_seconds, "max_rows": self.url.max_rows, "detail": _first_line(text)}
        for codes, message, hint in _EXPLANATIONS:
            if code in codes or (not codes and code is None and _looks_unreachable(text)):
                return SourceError(f"{self._name()}: {message.format(**facts)}", hint=hint.format(**facts))
        return SourceError(f"{self._name()}: {facts['detail']}")

    def _scrubbed(self, text: str) -> str:
        return text.replace(self.url.password, "***") if self.url.password else text


def open_client(url: SourceUrl) -> Any:
    """A clickhouse-connect client for the URL: HTTP(S), or the chDB backend for chdb:// (one engine per
    process: chDB cannot open a second data folder)."""
    import clickhouse_connect  # optional extra `clickhouse`

    if url.scheme == "chdb":
        with _CHDB_LOCK:
            if url.path not in _chdb_clients:
                if _chdb_clients:
                    raise SourceError(f"ClickHouse source {url.redacted()}: chDB already has "
                                      f"{next(iter(_chdb_clients))} open in this process",
                                      hint="chDB runs one data folder per process")
                _chdb_clients[url.path] = clickhouse_connect.get_client(interface="chdb", path=url.path)
            return _chdb_clients[url.path]
    options: dict[str, Any] = dict(url.tls_options)
    return clickhouse_connect.get_client(
        host=url.host, port=url.port, username=url.user, password=url.password, database=url.database,
        secure=url.secure, verify=url.verify, connect_timeout=min(10, url.timeout_seconds),
        send_receive_timeout=url.timeout_seconds + 5, autogenerate_session_id=False, **options)


def _error_code(text: str) -> int | None:
    match = re.search(r"Code: (\d+)", text)
    return int(match.group(1)) if match else None


def _looks_unreachable(text: str) -> bool:
    lowered = text.lower()
    return any(word in lowered for word in ("connection refused", "name or service not known", "timed out",
                                            "max retries exceeded", "failed to establish", "ssl"))


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:300] if text.strip() else "unknown error"


def _micros(value: datetime | None) -> int | None:
    """A naive-UTC (or aware) datetime as epoch microseconds, the unit of local start_time."""
    if value is None:
        return None
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    delta = aware - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _latest_first(agents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """inspect/agents.sql's order: most recently active first, then by uuid."""
    by_uuid: dict[str, dict[str, Any]] = {}
    for item in agents:
        by_uuid.setdefault(item["agentUuid"], item)
    ordered = sorted(by_uuid.values(), key=lambda item: item["agentUuid"])
    return sorted(ordered, key=lambda item: item["lastSeenAt"] or "", reverse=True)
