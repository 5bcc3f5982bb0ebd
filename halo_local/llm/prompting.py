"""What the model is shown: prompt templates, the spans schema, and the findings as capped, redacted JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from typing import Any, Protocol

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from halo_local.llm.tools import RESULT_MAX_CHARS, SQL_MAX_ROWS
from halo_local.redact import redact_value
from halo_local.resources import resource_dir, sql_text

MAX_FINDINGS_SHOWN = 40
MAX_FINDING_STRING = 1500


class FindingLike(Protocol):
    """What the LLM pass needs of `halo_local.heuristics.Finding`."""

    @property
    def key(self) -> str: ...

    def to_json(self) -> dict[str, Any]: ...


def finding_json(finding: FindingLike) -> dict[str, Any]:
    """The finding as the model sees it: its key first, strings capped, secrets redacted."""
    redacted: dict[str, Any] = redact_value(capped({"key": finding.key, **json_safe(finding.to_json())}))
    return redacted


def findings_for_prompt(findings: Sequence[FindingLike]) -> tuple[list[dict[str, Any]], int]:
    shown = [finding_json(finding) for finding in findings[:MAX_FINDINGS_SHOWN]]
    return shown, max(0, len(findings) - MAX_FINDINGS_SHOWN)


def capped(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_FINDING_STRING:
        return value[:MAX_FINDING_STRING] + f"…[+{len(value) - MAX_FINDING_STRING} chars]"
    if isinstance(value, dict):
        return {key: capped(item) for key, item in value.items()}
    if isinstance(value, list):
        return [capped(item) for item in value]
    return value


def json_safe(value: Any) -> Any:
    """JSON-safe: whatever json cannot encode (datetimes, decimals, paths) becomes its text."""
    return json.loads(json.dumps(value, default=str))


def compact_json(value: Any) -> str:
    """Compact JSON, one item per line for lists (readable for the model, cheap in tokens)."""
    if isinstance(value, list) and value:
        return "[\n" + ",\n".join(compact_json(item) for item in value) + "\n]"
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


@cache
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(str(resource_dir("prompts"))), undefined=StrictUndefined,
                       autoescape=False, keep_trailing_newline=False)


def render(template: str, **variables: Any) -> str:
    """Render a prompt template from `prompts/` (undefined variables are errors)."""
    return _environment().get_template(template).render(**variables).strip()


def schema_variables() -> dict[str, Any]:
    return {"spans_schema": spans_schema(), "max_rows": SQL_MAX_ROWS, "max_chars": RESULT_MAX_CHARS}


def spans_schema() -> str:
    """The CREATE TABLE spans statement (with its column comments) from the schema migration."""
    text = sql_text("schema/001_spans.sql")
    start = text.index("CREATE TABLE spans")
    end = text.index("\n);", start) + 3
    return text[start:end]
