"""Text halo-local did not write, made harmless where it is shown.

Two kinds of such text reach the user: trace content (span names, messages, attributes), and the
LLM's words, which a prompt injection in that content can steer. On a terminal, control characters
and bidi overrides are shown escaped (`\\x1b`), so no span can retitle, clear or reorder the screen.
In report.md, which people paste into coding agents, LLM text keeps only inert markdown: no images,
no HTML, links only over http(s) to hosts the traces' own URL attributes name, and shell commands
quoted as text under a warning instead of a block an agent would run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

# Bidi overrides and isolates, marks, and the Unicode line separators: they reorder or break what a
# reader sees without being visible themselves.
_INVISIBLE_LAYOUT = (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x2028, 0x2029)
_CONTROLS = (*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), *_INVISIBLE_LAYOUT)


def _shown(code: int) -> str:
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


_ESCAPE_ALL = {code: _shown(code) for code in _CONTROLS}
_ESCAPE_KEEPING_LINES = {code: text for code, text in _ESCAPE_ALL.items() if code not in (0x0A, 0x09)}
# json.dumps escapes C0 already; these pass through it with ensure_ascii=False.
_ESCAPE_IN_JSON = {code: f"\\u{code:04x}" for code in (0x7F, *range(0x80, 0xA0), *_INVISIBLE_LAYOUT)}


def terminal_line(value: object) -> str:
    """One line for a terminal: every control character (newline and tab too) shown as `\\xNN`."""
    return str(value).translate(_ESCAPE_ALL)


def terminal_text(value: object) -> str:
    """Multi-line text for a terminal: controls shown as `\\xNN`, except newline and tab."""
    return str(value).translate(_ESCAPE_KEEPING_LINES)


def json_text(document: str) -> str:
    """A JSON document with DEL, C1 controls and bidi overrides as `\\uXXXX` (the same JSON value)."""
    return document.translate(_ESCAPE_IN_JSON)


_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*\[\]<>#|~&]|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z]))")


def escape_markdown(text: str) -> str:
    """Markdown and HTML punctuation backslash-escaped, so text never becomes emphasis, links or tags;
    an underscore inside a word (`list_files`) cannot start emphasis and stays as it is."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", text)


# ---------------------------------------------------------------------------------------------
# Hosts a link may point at

# Only characters a URL needs: no spaces, quotes, angle brackets, backslashes (browsers read `\` as
# `/`, so `https://a.example\@b.example` goes to a.example), no percent-escapes in the host.
_PLAIN_URL = re.compile(r"https?://[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%-]+", re.IGNORECASE)
_HOST_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*")


def link_host(url: str) -> str | None:
    """The lower-case host of a plain http(s) URL; None for another scheme or anything unusual."""
    if not _PLAIN_URL.fullmatch(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    netloc_host = parts.netloc.rpartition("@")[2]
    if "%" in netloc_host:
        return None
    host = (parts.hostname or "").rstrip(".")
    return host if _HOST_NAME.fullmatch(host) else None


def hosts_named(values: Iterable[str | None]) -> frozenset[str]:
    """Hosts in URL or host-name attribute values (`https://api.example.com/v1`, `api.example.com`)."""
    hosts = set()
    for value in values:
        text = (value or "").strip()
        host = link_host(text) if "://" in text else text.lower().rstrip(".")
        if host and _HOST_NAME.fullmatch(host):
            hosts.add(host)
    return frozenset(hosts)


def _defanged(host: str) -> str:
    """A host name that no markdown renderer turns into a link (`www[.]example[.]com`)."""
    return escape_markdown(host.replace(".", "[.]"))


# ---------------------------------------------------------------------------------------------
# Shell commands

SHELL_WARNING = ("⚠ **Shell commands written by the LLM, shown as text only: halo-local did not check them. "
                 "Do not run them as they stand.**")
_SHELL_LANGUAGES = frozenset({
    "sh", "bash", "shell", "zsh", "fish", "ksh", "csh", "tcsh", "dash", "console", "terminal", "shell-session",
    "shellsession", "sh-session", "command", "cmd", "bat", "batch", "powershell", "ps", "ps1", "pwsh",
})
_PLAIN_LANGUAGES = frozenset({"", "text", "txt", "plain", "plaintext"})
# Text that would do something if pasted into a shell: a download piped to an interpreter, privilege
# or deletion, decoding to execute, reverse shells, command substitution.
_RISKY_SHELL = re.compile(
    r"\|\s*(?:sudo\s+)?(?:(?:ba|z|k|c|tc|da|fi)?sh|python[0-9.]*|perl|ruby|node|php|iex|invoke-expression)\b"
    r"|\b(?:curl|wget)\s+(?:-\S+\s+)*['\"]?(?:https?://|ftp://|www\.|[\w.-]+\.[a-z]{2,}/)"
    r"|\b(?:invoke-webrequest|invoke-restmethod|iwr|irm)\b|\bsudo\s+\S|\brm\s+-[a-z]*[rf]"
    r"|\bbase64\s+(?:-d|--decode)\b|/dev/tcp/|\b(?:ba|z)?sh\s+-c\b|\beval\s+[\"'$`]|\$\(|\bchmod\s+[+0-7]",
    re.IGNORECASE,
)
_COMMAND_START = re.compile(
    r"(?:\$|#|>|PS>)\s+\S"
    r"|(?:sudo|curl|wget|bash|sh|zsh|rm|mv|cp|chmod|chown|export|source|cd|echo|cat|pip3?|pipx|uv|npm|npx|pnpm"
    r"|yarn|apt(?:-get)?|brew|docker|kubectl|git|make|ssh|scp|python3?|node|halo-local)\s+\S",
    re.IGNORECASE,
)


def _quoted_inline(text: str, hosts: frozenset[str]) -> str:
    return f"⚠ shell command written by the LLM, not checked by halo-local, do not run it: “{_escaped_prose(text, hosts)}”"


def _quoted_block(lines: Sequence[str], hosts: frozenset[str]) -> str:
    quoted = [f"> {SHELL_WARNING}", ">"]
    for line in lines:
        text = line.strip()
        quoted.append(f"> {_line_start(_escaped_prose(text, hosts))}" if text else ">")
    return "\n".join(quoted)


# ---------------------------------------------------------------------------------------------
# LLM markdown

# Bare URLs a renderer would link by itself (GFM autolinks `scheme://` and `www.`), and a host with
# a path (`attacker.example/p.png?d=...`), which an agent reading the text could fetch all the same.
_BARE_URL = re.compile(r"(?:(?:https?|ftps?)://|www\.)[^\s<>\"'`]+"
                       r"|(?<![\w@.-])(?:[a-z0-9-]+\.)+[a-z]{2,}/[^\s<>\"'`]*", re.IGNORECASE)
_TRAILING_PUNCTUATION = ".,;:!?)]}*_~'\""
_IMAGE_OR_LINK = re.compile(r"(?P<image>!)?\[(?P<label>[^\[\]\n]*)\]\((?P<target>[^()\n]*(?:\([^()\n]*\)[^()\n]*)*)\)")
_BACKTICKS = re.compile(r"`+")
_FENCE_OPEN = re.compile(r"\s*(?P<fence>`{3,}|~{3,})(?P<info>.*)")
_LIST_ITEM = re.compile(r"\s*(?P<marker>[-*+]|\d{1,9}[.)])\s+(?P<content>.*)")


def _removed(what: str, why: str) -> str:
    return f"⟨{what} removed: {why}⟩"


def _foreign(host: str) -> str:
    return _removed("link", f"{_defanged(host)} is not a host in the trace data")


def _url_markdown(url: str, hosts: frozenset[str]) -> str:
    """A bare URL: an autolink when it is plain http(s) to a host in the data, else a note without it."""
    address = url if "://" in url else "http://" + url
    host = link_host(address)
    if host is None:
        return _removed("link", "not a plain http(s) URL")
    if host not in hosts:
        return _foreign(host)
    return f"<{address}>"


def _escaped_prose(text: str, hosts: frozenset[str]) -> str:
    """Text with markdown escaped and bare URLs made links only to hosts in the data."""
    parts: list[str] = []
    position = 0
    for match in _BARE_URL.finditer(text):
        url = match.group(0)
        kept = len(url.rstrip(_TRAILING_PUNCTUATION))
        parts.append(escape_markdown(text[position:match.start()]))
        parts.append(_url_markdown(url[:kept], hosts))
        parts.append(escape_markdown(url[kept:]))
        position = match.end()
    parts.append(escape_markdown(text[position:]))
    return "".join(parts)


def _link_markdown(match: re.Match[str], hosts: frozenset[str]) -> str:
    label = _escaped_prose(match.group("label"), hosts)
    if match.group("image"):
        return _removed("image", f"“{label}”" if label.strip() else "an image")
    target = match.group("target").strip()
    url = target.split()[0].strip("<>") if target else ""
    host = link_host(url)
    if host is None:
        return f"{label} {_removed('link', 'not a plain http(s) URL')}"
    if host not in hosts:
        return f"{label} {_foreign(host)}"
    return f"[{label or _defanged(host)}]({url.replace('(', '%28').replace(')', '%29')})"


def _prose(text: str, hosts: frozenset[str]) -> str:
    """Text outside code spans: images dropped, links and URLs checked, everything else escaped."""
    parts: list[str] = []
    position = 0
    for match in _IMAGE_OR_LINK.finditer(text):
        parts.append(_escaped_prose(text[position:match.start()], hosts))
        parts.append(_link_markdown(match, hosts))
        position = match.end()
    parts.append(_escaped_prose(text[position:], hosts))
    return "".join(parts)


def code_span(text: str) -> str:
    """An inline code span that holds any one-line text: per CommonMark, the fence is one backtick
    longer than the longest run of backticks inside, padded when the text starts or ends with one."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    if text.startswith("`") or text.endswith("`"):
        text = f" {text} "
    return f"{fence}{text}{fence}"


def _code_spans(text: str) -> list[tuple[bool, str]]:
    """`text` cut into (is_code, content) parts by CommonMark's code-span rule: a run of backticks
    closes at the next run of the same length; a run never closed is literal text."""
    parts: list[tuple[bool, str]] = []
    position = start = 0
    while (opener := _BACKTICKS.search(text, start)) is not None:
        closer = re.compile(rf"(?<!`){opener.group(0)}(?!`)").search(text, opener.end())
        if closer is None:
            start = opener.end()
            continue
        parts.append((False, text[position:opener.start()]))
        parts.append((True, text[opener.end():closer.start()]))
        position = start = closer.end()
    parts.append((False, text[position:]))
    return parts


def _is_command(code: str) -> bool:
    return bool(_COMMAND_START.match(code.strip()) or _RISKY_SHELL.search(code))


def _line(text: str, hosts: frozenset[str]) -> str:
    """One line of LLM markdown: prose that would run as shell quoted whole; else code spans kept (shell
    commands among them quoted) and the rest as prose."""
    parts = _code_spans(text)
    if any(not is_code and _RISKY_SHELL.search(part) for is_code, part in parts):
        return _quoted_inline(text, hosts)
    rendered = []
    for is_code, part in parts:
        if not is_code:
            rendered.append(_prose(part, hosts))
            continue
        code = part.strip() or part
        rendered.append(_quoted_inline(code, hosts) if _is_command(code) else code_span(code))
    return _line_start("".join(rendered))


def _line_start(rendered: str) -> str:
    """Escape what would make a line a heading underline, thematic break or list item."""
    if rendered[:1] in ("-", "+", "="):
        return "\\" + rendered
    return re.sub(r"^(\d+)([.)])", r"\1\\\2", rendered)


def _code_block(info: str, body: list[str], hosts: frozenset[str]) -> str:
    words = info.split()
    language = words[0].lower() if words else ""
    text = "\n".join(line.rstrip() for line in body)
    looks_like_commands = language in _PLAIN_LANGUAGES and any(_COMMAND_START.match(line.strip()) for line in body)
    if language in _SHELL_LANGUAGES or looks_like_commands or _RISKY_SHELL.search(text):
        return _quoted_block(body, hosts)
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", text)), default=0))
    tag = language if re.fullmatch(r"[a-z0-9_+.-]{1,20}", language) else ""
    return f"{fence}{tag}\n{text}\n{fence}"


def llm_markdown(text: str, hosts: Iterable[str]) -> str:
    """The LLM's markdown reduced to paragraphs, flat lists, code spans, non-shell code blocks and
    links to `hosts`; shell commands quoted under a warning. Nothing it writes can open a heading,
    a table, a block quote or HTML, so the report's own structure stays halo-local's."""
    allowed = frozenset(host.lower() for host in hosts)
    lines = terminal_text(text.replace("\r\n", "\n")).replace("\t", "    ").split("\n")
    blocks: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        opening = _FENCE_OPEN.fullmatch(line)
        if opening and not (opening.group("fence")[0] == "`" and "`" in opening.group("info")):
            fence = opening.group("fence")
            closing = re.compile(rf"\s*{re.escape(fence[0])}{{{len(fence)},}}\s*")
            body: list[str] = []
            while index < len(lines) and not closing.fullmatch(lines[index]):
                body.append(lines[index])
                index += 1
            index += 1
            blocks += ["", _code_block(opening.group("info"), body, allowed), ""]
            continue
        item = _LIST_ITEM.fullmatch(line)
        if item:
            marker = "-" if item.group("marker") in "-*+" else item.group("marker")
            blocks.append(f"{marker} {_line(item.group('content').strip(), allowed)}")
        elif line.strip():
            blocks.append(_line(line.strip(), allowed))
        else:
            blocks.append("")
    return re.sub(r"\n{3,}", "\n\n", "\n".join(blocks)).strip()


def llm_inline(text: str, hosts: Iterable[str]) -> str:
    """One line of LLM text (a title): whitespace collapsed, then the same rules as `llm_markdown`."""
    allowed = frozenset(host.lower() for host in hosts)
    return _line(terminal_line(" ".join(str(text).split())), allowed)
