"""The tools the model explores a snapshot with, and the schema of its final answer.

Exploration tools are thin wrappers over `SpanSandbox`; their output is redacted and capped
before the model sees it. `delegate_finding` and `submit_analysis` are declared here but acted
on by the agent loop, which owns sub-agents and the conversation's end.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from halo_local.errors import HaloLocalError
from halo_local.redact import redact_counting
from halo_local.sandbox import SpanSandbox

SQL_MAX_ROWS = 200
RESULT_MAX_CHARS = 16000

RUN_SQL = "run_sql"
VIEW_TRACE = "view_trace"
GET_SPAN = "get_span"
SEARCH_SPANS = "search_spans"
DELEGATE = "delegate_finding"
SUBMIT = "submit_analysis"

_ID_LIST = {"type": "array", "items": {"type": "string"}, "maxItems": 20}

EXPLORATION_TOOLS: tuple[dict[str, Any], ...] = (
    {
        "name": RUN_SQL,
        "description": (
            "Run one read-only DuckDB SQL statement (SELECT, WITH, DESCRIBE, SUMMARIZE, EXPLAIN) over the "
            f"table `spans`. At most {SQL_MAX_ROWS} rows and {RESULT_MAX_CHARS} characters come back: "
            "aggregate, filter and LIMIT. Attributes are JSON: attributes->>'key' reads one."
        ),
        "input_schema": {
            "type": "object",
            "properties": {"sql": {"type": "string", "description": "one DuckDB SQL statement"}},
            "required": ["sql"],
        },
    },
    {
        "name": VIEW_TRACE,
        "description": (
            "Show one trace as an indented span tree: name, type, span id, duration, status, agent, model, "
            "tokens, tool name and error of every span."
        ),
        "input_schema": {
            "type": "object",
            "properties": {"trace_id": {"type": "string", "description": "32-hex trace id"}},
            "required": ["trace_id"],
        },
    },
    {
        "name": GET_SPAN,
        "description": (
            "Show every column of one span: input/output text, tool arguments and result, raw attributes "
            "and events. Give trace_id too when a span id occurs in several traces."
        ),
        "input_schema": {
            "type": "object",
            "properties": {"span_id": {"type": "string"}, "trace_id": {"type": "string"}},
            "required": ["span_id"],
        },
    },
    {
        "name": SEARCH_SPANS,
        "description": (
            "Find spans whose name, error, status message, tool arguments/result, input/output text, model "
            "or attributes contain a phrase (case-insensitive); one row per span with a snippet."
        ),
        "input_schema": {
            "type": "object",
            "properties": {
                "text": {"type": "string", "description": "the phrase to look for"},
                "limit": {"type": "integer", "minimum": 1, "maximum": 100, "description": "at most this many spans (20)"},
            },
            "required": ["text"],
        },
    },
)

DELEGATE_TOOL: dict[str, Any] = {
    "name": DELEGATE,
    "description": (
        "Hand one finding to a sub-agent that investigates it with the same tools and reports back a "
        "summary and issues with verified ids. Use it for findings that need many queries."
    ),
    "input_schema": {
        "type": "object",
        "properties": {
            "finding_key": {"type": "string", "description": "the key of the finding to investigate"},
            "question": {"type": "string", "description": "what exactly the sub-agent should find out"},
        },
        "required": ["finding_key", "question"],
    },
}

SUBMIT_TOOL: dict[str, Any] = {
    "name": SUBMIT,
    "description": (
        "Submit the final analysis: a short markdown summary and the issues ranked by impact, each "
        "explaining one finding (by its key) or a new issue the heuristics missed (finding_key null)."
    ),
    "input_schema": {
        "type": "object",
        "properties": {
            "summary": {"type": "string", "description": "markdown, one to three short paragraphs"},
            "notes": {
                "type": "array",
                "maxItems": 20,
                "items": {
                    "type": "object",
                    "properties": {
                        "finding_key": {"type": ["string", "null"], "description": "a finding key, or null for a new issue"},
                        "title": {"type": "string"},
                        "rank": {"type": "integer", "minimum": 1, "description": "1 = most important"},
                        "likely_cause": {"type": "string", "description": "the root cause, with evidence"},
                        "fix": {"type": "string", "description": "a concrete change to make"},
                        "trace_ids": {**_ID_LIST, "description": "example trace ids, copied from tool results"},
                        "span_ids": {**_ID_LIST, "description": "example span ids, copied from tool results"},
                    },
                    "required": ["finding_key", "title", "rank", "likely_cause", "fix", "trace_ids", "span_ids"],
                },
            },
        },
        "required": ["summary", "notes"],
    },
}


@dataclass(frozen=True)
class ToolOutput:
    text: str
    is_error: bool = False
    rows: int | None = None
    redactions: int = 0


class SpanTools:
    """Runs the exploration tools against one sandbox, returning redacted, capped text."""

    def __init__(self, sandbox: SpanSandbox) -> None:
        self.sandbox = sandbox

    def run(self, name: str, arguments: Mapping[str, Any]) -> ToolOutput:
        """The tool's output; a bad argument or a refused query comes back as an error the model can fix."""
        try:
            output = self._dispatch(name, arguments)
        except HaloLocalError as error:
            message = error.message + (f" ({error.hint})" if error.hint else "")
            output = ToolOutput(message, is_error=True)
        text, redactions = redact_counting(output.text)
        if len(text) > RESULT_MAX_CHARS:
            text = text[:RESULT_MAX_CHARS] + "\n(cut to stay under the character limit)"
        return ToolOutput(text, is_error=output.is_error, rows=output.rows, redactions=redactions)

    def _dispatch(self, name: str, arguments: Mapping[str, Any]) -> ToolOutput:
        if name == RUN_SQL:
            result = self.sandbox.query(_text_argument(arguments, "sql"), max_rows=SQL_MAX_ROWS,
                                        max_chars=RESULT_MAX_CHARS)
            return ToolOutput(result.to_text(), rows=len(result.rows))
        if name == VIEW_TRACE:
            return ToolOutput(self.sandbox.view_trace(_text_argument(arguments, "trace_id"), max_chars=RESULT_MAX_CHARS))
        if name == GET_SPAN:
            trace_id = arguments.get("trace_id")
            text = self.sandbox.span_detail(_text_argument(arguments, "span_id"),
                                            trace_id=str(trace_id) if trace_id else None, max_chars=RESULT_MAX_CHARS)
            return ToolOutput(text, rows=1)
        if name == SEARCH_SPANS:
            limit = arguments.get("limit", 20)
            if isinstance(limit, bool) or not isinstance(limit, (int, float)):
                return ToolOutput("limit must be a number", is_error=True)
            result = self.sandbox.search_spans(_text_argument(arguments, "text"), limit=int(limit),
                                               max_chars=RESULT_MAX_CHARS)
            return ToolOutput(result.to_text(), rows=len(result.rows))
        return ToolOutput(f"there is no tool named {name!r}", is_error=True)


def short_arguments(arguments: Mapping[str, Any], limit: int = 200) -> str:
    """The tool arguments as one line for progress events."""
    text = json.dumps(arguments, ensure_ascii=False, default=str)
    text, _ = redact_counting(" ".join(text.split()))
    return text if len(text) <= limit else text[:limit] + "…"


def _text_argument(arguments: Mapping[str, Any], name: str) -> str:
    value = arguments.get(name)
    if not isinstance(value, str) or not value.strip():
        raise HaloLocalError(f"the argument {name!r} must be a non-empty string")
    return value
