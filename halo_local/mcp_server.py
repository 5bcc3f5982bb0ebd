"""`halo-local mcp`: the local reports and traces served to coding assistants over MCP (stdio).

This module is the server (instructions, tool annotations, argument errors); the tools are in `mcp_tools`.

A coding assistant (Claude Code, Cursor, ...) starts this server and calls its tools: read the
conversations (a run's report is the first assistant message), start runs, ask follow-ups, and
check a finding against the spans before editing code. The tools are thin wrappers over the same
Python API the CLI calls and return the same camelCase JSON documents its `--json` prints.

The server never holds the database between calls: every API function opens the Store briefly,
runs execute in detached workers (polled with short connections), and the read-only SQL tools use
one in-memory `SpanSandbox` copied out of the database and kept only while the database file is
unchanged (its size and mtime, and its WAL's), so a long-lived server never answers from stale spans.
Errors become MCP tool errors (`isError`) whose text is the message and hint the CLI would print.
"""

from __future__ import annotations

import inspect
import json
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.types import ToolAnnotations
from pydantic import ValidationError

from halo_local.common.package import package_version
from halo_local.mcp_tools import HaloTools
from halo_local.store import Store

SERVER_NAME = "halo-local"
INSTRUCTIONS = """\
halo-local analyses an LLM agent's OpenTelemetry traces stored on this machine. Each analysis run
writes a report (a markdown brief for a coding agent: ranked findings with evidence and fixes) as
the first assistant message of a conversation.

Typical use: list_halo_conversations, then get_halo_conversation to read the newest report; before
changing code, verify a finding with view_trace (the span tree of a trace id named in the report)
or query_spans (read-only SQL over the `spans` table); ask_followup to ask about the report. To
analyse fresh traces: list_agents (time_range "all" shows every agent), then create_run.
"""

_READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)
_STARTS_RUN = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False,
                              open_world_hint=True)
_TOOL_ANNOTATIONS: dict[str, ToolAnnotations] = {
    "list_halo_conversations": _READ_ONLY,
    "get_halo_conversation": _READ_ONLY,
    "list_agents": _READ_ONLY,
    "get_run": _READ_ONLY,
    "create_run": _STARTS_RUN,
    "ask_followup": _STARTS_RUN,
    "view_trace": _READ_ONLY,
    "query_spans": _READ_ONLY,
}


def invalid_arguments_text(error: ValidationError, schema: dict[str, Any]) -> str:
    """Arguments that do not match the input schema, one line each: the argument, what is wrong, what it takes.

    Replaces pydantic's dump (model names, error codes, links), which tells a model less in more words.
    """
    properties = schema.get("properties", {})
    lines = ["invalid arguments:"]
    for problem in error.errors(include_url=False):
        name = ".".join(str(part) for part in problem["loc"]) or "arguments"
        wrong = "missing (it is required)" if problem["type"] == "missing" else (
            f"{problem['msg']} (got {json.dumps(problem['input'], default=str)[:80]})")
        field = properties.get(str(problem["loc"][0]) if problem["loc"] else "", {})
        expected = f". Expected: {field['description']}" if field.get("description") else ""
        lines.append(f"- {name}: {wrong}{expected}")
    return "\n".join(lines)


class HaloMCPServer(MCPServer):
    """The SDK's server, with argument errors that say plainly what to send instead."""

    async def call_tool(self, name: str, arguments: dict[str, Any],
                        context: Context[Any, Any] | None = None) -> Any:
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as error:
            if isinstance(error, UnexpectedToolError) or not isinstance(error.__cause__, ValidationError):
                raise
            schemas = {tool.name: tool.input_schema for tool in await self.list_tools()}
            raise ToolError(f"Error executing tool {name}: "
                            + invalid_arguments_text(error.__cause__, schemas.get(name, {}))) from error.__cause__


def build_server(store: Store) -> tuple[MCPServer, HaloTools]:
    """The MCP server with every halo-local tool registered, and the tools object (for its cache)."""
    server: MCPServer = HaloMCPServer(SERVER_NAME, title="halo-local", instructions=INSTRUCTIONS,
                                       version=package_version() or "0+unknown", log_level="WARNING")
    tools = HaloTools(store)
    for name, tool_annotations in _TOOL_ANNOTATIONS.items():
        method = getattr(tools, name)
        server.add_tool(method, name=name, description=inspect.cleandoc(method.__doc__ or ""),
                        annotations=tool_annotations, structured_output=False)
    return server, tools


def serve(store: Store) -> None:
    """Serve `store` over stdio until the client closes stdin."""
    server, tools = build_server(store)
    try:
        server.run("stdio")
    finally:
        tools.sandboxes.close()
