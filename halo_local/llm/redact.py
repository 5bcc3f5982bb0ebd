"""Secrets out of everything sent to the LLM provider.

Span content is whatever the traced agent saw: API keys pasted into prompts, connection strings
in tool arguments, bearer headers in HTTP attributes. Every text that leaves the machine goes
through `redact` first; the patterns aim at credentials with a recognisable shape (or a telling
key name), so token counts, hex trace ids and ordinary prose pass through untouched.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

REDACTED = "[REDACTED]"

_KEY_NAMES = (
    r"password|passwd|passphrase|pwd|secret|client[_-]?secret|api[_-]?key|apikey|access[_-]?key"
    r"|secret[_-]?key|private[_-]?key|auth[_-]?token|access[_-]?token|refresh[_-]?token"
    r"|session[_-]?token|id[_-]?token|credentials?"
)

_Replacement = str | Callable[[re.Match[str]], str]
_TOKEN_CHARS = r"[A-Za-z0-9\-._~+/]"
_PATTERNS: tuple[tuple[str, re.Pattern[str], _Replacement], ...] = (
    ("private key", re.compile(
        r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----(?!\[REDACTED\]).*?(?:-----END[A-Z0-9 ]*PRIVATE KEY-----|\Z)",
        re.DOTALL),
     "-----BEGIN PRIVATE KEY-----" + REDACTED + "-----END PRIVATE KEY-----"),
    ("anthropic key", re.compile(r"\bsk-ant-[A-Za-z0-9_\-]{8,}"), REDACTED),
    ("openai-style key", re.compile(r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{16,}"), REDACTED),
    ("stripe-style key", re.compile(r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{10,}"), REDACTED),
    ("aws access key id", re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}\b"), REDACTED),
    ("github token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})"), REDACTED),
    ("slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9\-]{10,}"), REDACTED),
    ("google api key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}"), REDACTED),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"), REDACTED),
    # A bearer token is long or has a digit, which keeps prose like "Bearer authentication" intact.
    ("bearer token", re.compile(
        r"(?i)\b(bearer\s+)(?!\[REDACTED\])(?:(?=" + _TOKEN_CHARS + r"*\d)" + _TOKEN_CHARS + r"{8,}|"
        + _TOKEN_CHARS + r"{20,})=*"),
     lambda match: f"{match.group(1)}{REDACTED}"),
    ("basic credentials", re.compile(r"(?i)\b(basic\s+)(?=[A-Za-z0-9+/]*\d)[A-Za-z0-9+/]{12,}={0,2}"),
     lambda match: f"{match.group(1)}{REDACTED}"),
    ("password in url", re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.\-]*://)([^\s:/?#@\"'<>]+):(?!\[REDACTED\]@)([^\s@/?#\"'<>]+)@"),
     lambda match: f"{match.group(1)}{match.group(2)}:{REDACTED}@"),
    # key = value, "key": "value", KEY=value, also inside JSON that was itself JSON-encoded (\").
    ("secret assignment", re.compile(
        r"(?i)(\b[\w.\-]*?(?:" + _KEY_NAMES + r")(?:\\?[\"'])?\s*[:=]\s*)"
        r"(?:(\")(?!\[REDACTED\])([^\"\\\n]{1,200})\"|(\\?[\"'])?(?!\[REDACTED\])(?!(?:null|none|true|false)\b)"
        r"([^\s\"'\\&,;{}\[\]]{3,}))"),
     lambda match: (f"{match.group(1)}\"{REDACTED}\"" if match.group(2)
                    else f"{match.group(1)}{match.group(4) or ''}{REDACTED}")),
)


def redact(text: str) -> str:
    """`text` with every recognised secret replaced by [REDACTED]."""
    return redact_counting(text)[0]


def redact_counting(text: str) -> tuple[str, int]:
    """`text` redacted, and how many secrets were replaced."""
    total = 0
    for _name, pattern, replacement in _PATTERNS:
        text, count = pattern.subn(replacement, text)
        total += count
    return text, total


def redact_value(value: Any) -> Any:
    """A JSON-like value with every string (keys kept) redacted; other values unchanged."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redact_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_value(item) for item in value]
    return value
