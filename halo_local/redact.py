"""Secrets out of everything sent to the LLM provider.

Span content is whatever the traced agent saw: API keys pasted into prompts, connection strings
in tool arguments, bearer headers in HTTP attributes. Every text that leaves the machine goes
through `redact` first, and a run's snapshot is redacted in DuckDB as it is written (SQL that
reshapes text, such as upper() or reverse(), would otherwise hide a secret from the patterns).
The patterns aim at credentials with a recognisable shape (or a telling key name), so token
counts, hex trace ids and ordinary prose pass through untouched.

`PATTERNS` is the one table both engines use: each regex is written in the common subset of
Python `re` (ASCII mode) and RE2 (no lookarounds, no backreferences), and each replacement is a
template with `\\N` group references that `re` and DuckDB's regexp_replace expand alike. Text may
already be escaped (a JSON column, or a table cell where a newline is the two characters `\\n`),
so the generic patterns take `\\n`, `\\t`, `\\"` or a `%XX` escape as a word boundary, and keys
with a distinctive prefix (sk-ant-, ghp_, AIza, ...) need no boundary at all.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from typing import Any, NamedTuple

from halo_local.resources import sql_text

REDACTED = "[REDACTED]"


class RedactionPattern(NamedTuple):
    """A credential shape: an RE2-compatible regex and the template that replaces a match.

    `prefilter`, when set, is a cheaper regex that matches wherever `regex` does (a part of every
    match, such as the regex without a leading context), used only to find the texts worth redacting.
    """

    name: str
    regex: str
    replacement: str
    prefilter: str | None = None


# What may stand just before a generic secret: start of text, a non-alphanumeric character, an
# escaped newline/tab/return, or a URL-encoded character. Captured as group 1 and written back.
_BOUNDARY = r"(^|[^A-Za-z0-9]|\\[nrt]|%[0-9A-Fa-f]{2})"
# Space, or an escaped newline/tab, between a key name and its value.
_SPACE = r"(?:[ \t\r\n]|\\[nrt])*"
_KEY_NAMES = (
    r"password|passwd|passphrase|pwd|secret|api[_-]?key|apikey|access[_-]?key|private[_-]?key|account[_-]?key"
    r"|token|credentials?|cookie"
)
# Short names that are a secret's only when they stand alone: DB_PASS=, SMTP_PW=, "auth": ..., &sig= (an
# Azure SAS signature). Matched after a non-alphanumeric character and never with a suffix, so bypass=,
# "author" and design= stay as they are.
_SHORT_KEY_NAMES = r"(?:^|[^A-Za-z0-9])(?:pass|pw|auth|sig)"
# What separates a key from its value: = or :, also URL-encoded (%3D, %3A, and twice encoded %253D). A short
# name takes = only ("pass: skipped" is a test result).
_SEPARATOR = r"(?:[:=]|%(?:25)?3[DdAa])"
_EQUALS = r"(?:=|%(?:25)?3[Dd])"
# A quote at any depth of JSON nested in JSON strings: ", \", \\" ...
_QUOTE = r"\\*\""
_TOKEN = r"[A-Za-z0-9\-._~+/]"
_BASE64 = r"[A-Za-z0-9+/]"
_PEM_MARKER = r"[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
# Between a secret word and its value: spaces, quotes, := and the like, or an escaped newline; not a dot
# or a slash, so a file listing (token.py', './.venv/lib/python3') is no secret. Words in between are
# prose ("key for prod: ..."), never a JSON field's end, so the token is the secret word's own value.
_GAP = r"(?:\\[nrt]|[ \t:=\"'`\\,(\[{<>])"
_BASE64_WORDS = ("password", "Password", "PASSWORD", "passwd", "secret", "Secret", "SECRET", "api_key", "apikey",
                 "API_KEY", "token", "private_key")


def _entropic_token(min_side: int = 5, min_plain: int = 20) -> str:
    """A run of token characters with a digit that has `min_side` of them on each side, or any such run
    of `min_plain` or more.

    Near "a long token with a digit" (RE2 has no lookahead), written so that RE2 compiles it small: the
    macro compiles once per column, and spelling out every position of the first digit tripled that.
    """
    char = r"[A-Za-z0-9+/_\-]"
    return f"(?:{char}{{{min_side},}}[0-9]{char}{{{min_side},}}|{char}{{{min_plain},}})"


def _base64_cores(words: tuple[str, ...]) -> list[str]:
    """The base64 characters that encode each word alone, at each of the 3 byte offsets it can start at."""
    cores: list[str] = []
    for word in words:
        for offset in range(3):
            encoded = base64.b64encode(bytes(offset) + word.encode() + bytes(3)).decode()
            core = encoded[-(-8 * offset // 6):8 * (offset + len(word)) // 6]
            if core not in cores:
                cores.append(core)
    return cores


_ENTROPIC_TOKEN = _entropic_token()

PATTERNS: tuple[RedactionPattern, ...] = (
    # The body stops at a quote (escaped or not), so a key inside a JSON string leaves the JSON valid.
    RedactionPattern(
        "private key",
        r"-----BEGIN" + _PEM_MARKER + r"(?:[^\"\\-]|\\[^\"]|-[^-\"\\])*(?:-----END" + _PEM_MARKER + ")?",
        "-----BEGIN PRIVATE KEY-----" + REDACTED + "-----END PRIVATE KEY-----"),
    RedactionPattern("anthropic key", r"sk-ant-[A-Za-z0-9_\-]{8,}", REDACTED),
    RedactionPattern("openai-style key", _BOUNDARY + r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{16,}",
                     r"\1" + REDACTED),
    RedactionPattern("stripe-style key", r"(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{10,}", REDACTED),
    RedactionPattern("aws access key id", r"(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}", REDACTED),
    RedactionPattern("github token", r"(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})", REDACTED),
    RedactionPattern("slack token", r"xox[abposr]-[A-Za-z0-9\-]{10,}", REDACTED),
    RedactionPattern("google api key", r"AIza[0-9A-Za-z_\-]{35}", REDACTED),
    RedactionPattern("hugging face token", r"hf_[A-Za-z0-9]{30,}", REDACTED),
    RedactionPattern("jwt", r"eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}", REDACTED),
    RedactionPattern("gitlab token", r"gl(?:pat|dt|rt|ptt|cbt|imt|ft|soat)-[A-Za-z0-9_\-]{20,}", REDACTED),
    RedactionPattern("npm token", r"npm_[A-Za-z0-9]{30,}", REDACTED),
    RedactionPattern("sendgrid key", r"SG\.[A-Za-z0-9_\-]{16,32}\.[A-Za-z0-9_\-]{16,64}", REDACTED),
    RedactionPattern("google oauth token", r"(?:ya29\.|1//0)[A-Za-z0-9_\-]{20,}", REDACTED),
    # A webhook URL is its own credential: the host stays, the path that grants access goes.
    RedactionPattern("slack webhook", r"(hooks\.slack\.com/(?:services|workflows|triggers)/)[A-Za-z0-9_/\-]{10,}",
                     r"\1" + REDACTED),
    RedactionPattern("discord webhook", r"(discord(?:app)?\.com/api/webhooks/)[0-9]+/[A-Za-z0-9_\-]{20,}",
                     r"\1" + REDACTED),
    # Whatever follows an Authorization header's scheme is a credential, whatever its shape.
    RedactionPattern(
        "authorization header",
        r"(?i)(authorization(?:\\?[\"'])?[ \t]*[:=][ \t]*(?:\\?[\"'])?[ \t]*(?:basic|bearer|token)[ \t]+)"
        r"[^ \t\r\n\"'\\,;]+",
        r"\1" + REDACTED),
    # Elsewhere a bearer token has a digit or is long, which keeps "Bearer authentication" intact.
    RedactionPattern(
        "bearer token",
        r"(?i)" + _BOUNDARY + r"(bearer[ \t]+)(?:" + _TOKEN + r"{4,}[0-9]" + _TOKEN + r"*|" + _TOKEN + r"*[0-9]"
        + _TOKEN + r"{4,}|" + _TOKEN + r"{20,})=*",
        r"\1\2" + REDACTED),
    RedactionPattern(
        "basic credentials",
        r"(?i)" + _BOUNDARY + r"(basic[ \t]+)(?:" + _BASE64 + r"{6,}[0-9]" + _BASE64 + r"*|" + _BASE64 + r"*[0-9]"
        + _BASE64 + r"{6,})={0,2}",
        r"\1\2" + REDACTED),
    RedactionPattern(
        "password in url",
        r"([a-zA-Z][a-zA-Z0-9+.\-]{0,31}://)([^\s:/?#@\"'<>\\]+):([^\s@/?#\"'<>\\]+)@",
        r"\1\2:" + REDACTED + "@",
        # The match without its scheme: a scheme of up to 32 characters before "://" made RE2's DFA for
        # ANY_SECRET blow up (14x the cost of everything else together); "://" is a literal it skips to.
        prefilter=r"://[^\s:/?#@\"'<>\\]+:[^\s@/?#\"'<>\\]+@"),
    # "password": "value" in JSON, also JSON-encoded inside JSON (\" or \\\" at any depth). A JSON value that
    # is not a string (null, true, 42) is left alone, so the JSON stays valid.
    RedactionPattern(
        "secret in json",
        r"(?i)((?:(?:" + _KEY_NAMES + r")[\w.\-]*|" + _SHORT_KEY_NAMES + ")" + _QUOTE + _SPACE + ":" + _SPACE + r")"
        r"(\\*)\"(?:[^\"\\]|\\+[^\"\\])+(\\*)\"",
        r'\1\2"' + REDACTED + r'\3"'),
    # The same as a JSON list, the shape OTel gives HTTP headers (http.request.header.authorization:
    # ["Basic ..."]): every string in the list goes, the list stays one valid element long.
    RedactionPattern(
        "secret list in json",
        r"(?i)((?:(?:" + _KEY_NAMES + r"|authorization)[\w.\-]*|" + _SHORT_KEY_NAMES + ")" + _QUOTE + _SPACE + ":"
        + _SPACE + r"\[" + _SPACE + r")"
        r"(\\*)\"(?:[^\"\\]|\\+[^\"\\])*\\*\"(?:" + _SPACE + "," + _SPACE + r"\\*\"(?:[^\"\\]|\\+[^\"\\])*\\*\")*"
        r"(" + _SPACE + r"\])",
        r'\1\2"' + REDACTED + r'\2"\3'),
    # password=value, API_KEY: value, DB_PASS=value, Cookie: a=b, ?token=value, password%3Dvalue,
    # password: "a b c".
    RedactionPattern(
        "secret assignment",
        r"(?i)((?:(?:" + _KEY_NAMES + r")" + _SPACE + _SEPARATOR + "|" + _SHORT_KEY_NAMES + _SPACE + _EQUALS + ")"
        + _SPACE + r")"
        r"(?:(\\?\")(?:[^\"\\\r\n]|\\[^\"])+(\\?\")|(\\?')?[^\s\"'\\&,;{}\[\]]{3,})",
        r"\1\2\4" + REDACTED + r"\3"),
    # "The admin password is hunter2!", "the passphrase was 'a b c'": a value that is quoted, or that has a
    # digit or a symbol, so "the password was wrong" is left alone.
    RedactionPattern(
        "secret in prose",
        r"(?i)((?:password|passwd|passphrase|passcode|pwd|secret|api[ _\-]?key|token|credentials?)"
        r"(?:[ \t]+(?:for|of|on|to)[ \t]+[A-Za-z0-9_.\-]+)?[ \t]+(?:is|was|are|were)[ \t]+)"
        r"(?:[\"'`][^\"'`\r\n\\]{3,}[\"'`]|[^\s\"'`\\]{2,}[0-9!@#$%^&*][^\s\"'`\\]*|[0-9!@#$%^&*][^\s\"'`\\]{2,})",
        r"\1" + REDACTED),
    # A base64 blob that decodes to text naming a secret (password=..., "api_key": ...): the word's
    # base64 at each of the three byte alignments, anywhere in the blob, takes the whole blob.
    RedactionPattern(
        "base64-wrapped secret",
        r"(^|\\[nrt]|[^A-Za-z0-9+/\\])" + _BASE64 + r"*(?:" + "|".join(_base64_cores(_BASE64_WORDS)) + ")"
        + _BASE64 + r"*={0,2}",
        r"\1" + REDACTED),
    # Beyond named shapes: a long token with a digit, just after a word that says what it is
    # ("credential 7fK2mQ9x...", "key_tail": "...", "signing key for prod: whsec_...").
    RedactionPattern(
        "token beside a secret word",
        r"(?i)((?:key|token|secret|password|passwd|passphrase|credential|cred|auth|signature|pwd)s?"
        r"(?:[_.\-][A-Za-z0-9]+){0,2}"
        + _GAP + r"+(?:[A-Za-z]+[ \t:=]+){0,3})" + _ENTROPIC_TOKEN,
        r"\1" + REDACTED),
    # A command line's flag and its value: mysql --password hunter2, tool --api-key abc123. The value
    # does not start with a dash (the next flag) and the flag name ends where the key does
    # (--token-count 5 is left alone).
    RedactionPattern(
        "secret flag",
        r"(?i)((?:^|[\s\"'=]|\\[nrt])--?(?:password|passwd|passphrase|secret|client[_-]?secret|api[_-]?key|apikey"
        r"|access[_-]?key|private[_-]?key|token|auth[_-]?token)[ \t]+)[^\s\"'\\\[\-][^\s\"'\\]{2,}",
        r"\1" + REDACTED),
)

_COMPILED = tuple((re.compile(pattern.regex, re.ASCII), pattern.replacement) for pattern in PATTERNS)


def _scoped(regex: str) -> str:
    """`regex` as one alternative of a larger pattern: a leading `(?i)` becomes a scoped `(?i:...)`."""
    if regex.startswith("(?i)"):
        return "(?i:" + regex.removeprefix("(?i)") + ")"
    return "(?:" + regex + ")"


# Any pattern at all (its prefilter where it has one), in one RE2 pass: nearly every text holds no
# secret, and one scan that says so is far cheaper than running every replacement. With the URL
# pattern's prefilter it scans about 270 MB/s on one core (0.33 CPU-s over the attributes, input,
# output and tool results of 100k bench spans, against 4.6 CPU-s with the full URL pattern). Python's
# `re` gains nothing from it (a backtracking alternation is slower than the patterns' own
# literal-prefix scans), so `redact` runs the patterns directly.
ANY_SECRET = "|".join(_scoped(pattern.prefilter or pattern.regex) for pattern in PATTERNS)


def redact(text: str) -> str:
    """`text` with every recognised secret replaced by [REDACTED]."""
    return redact_counting(text)[0]


def redact_counting(text: str) -> tuple[str, int]:
    """`text` redacted, and how many secrets were replaced (a match already redacted not counted)."""
    total = 0

    def replace(match: re.Match[str], template: str) -> str:
        nonlocal total
        replaced = match.expand(template)
        total += replaced != match.group(0)
        return replaced

    for compiled, template in _COMPILED:
        text = compiled.sub(functools.partial(replace, template=template), text)
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


def rules_fingerprint() -> str:
    """What a stored verdict (spans.secret_free_under_rules) was made under: the check and redaction as SQL
    (`sql_macro`, from PATTERNS) and the list of checked columns (spans/_redaction.sql, hashed whole). Any
    change to either makes every stored verdict count as missing, so spans stored under older rules are
    checked again, with no step to remember."""
    digest = hashlib.sha256(sql_macro().encode())
    digest.update(sql_text("spans/_redaction.sql").encode())
    return digest.hexdigest()[:16]


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def sql_macro() -> str:
    """DuckDB TEMP MACROs built from the same table: `redact_secrets(text)` is `redact` in SQL, and
    `may_hold_secret(text)` is false only where `redact_secrets` would return `text` unchanged.

    `may_hold_secret` of several texts joined by newlines is true whenever it is true of one of them
    (every `^` in the patterns stands beside an alternative a newline satisfies, and RE2 has no
    lookarounds): a snapshot checks a span's texts in one call and redacts them one by one only then.
    """
    expression = "text"
    for pattern in PATTERNS:
        expression = (f"regexp_replace({expression}, {_sql_string(pattern.regex)}, "
                      f"{_sql_string(pattern.replacement)}, 'g')")
    check = f"regexp_matches(text, {_sql_string(ANY_SECRET)})"
    return (f"CREATE OR REPLACE TEMP MACRO redact_secrets(text) AS CASE WHEN {check} THEN {expression} ELSE text END;\n"
            + check_macro())


def check_macro() -> str:
    """`sql_macro`'s `may_hold_secret` alone."""
    return f"CREATE OR REPLACE TEMP MACRO may_hold_secret(text) AS regexp_matches(text, {_sql_string(ANY_SECRET)})"
