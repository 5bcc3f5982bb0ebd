"""Source URLs: `clickhouse://USER@HOST:8123/DATABASE?table=otel_traces` and `chdb://PATH?table=DB.TABLE`.

A password may come from the URL or from HALO_CLICKHOUSE_PASSWORD; it is never printed (every
message shows `redacted()`), and a named source is stored without it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, quote, unquote, urlsplit

from halo_local.errors import UsageError

PASSWORD_ENV = "HALO_CLICKHOUSE_PASSWORD"
SCHEMES = ("clickhouse", "clickhouses", "chdb")
DEFAULT_TABLE = "otel_traces"
DEFAULT_TIMEOUT_SECONDS = 60
DEFAULT_ROW_CAP = 5_000_000
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_BOOLEAN = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}
# Query options a URL may carry; anything else is a typo worth reporting.
_OPTIONS = {"table", "secure", "verify", "ca_cert", "client_cert", "client_cert_key", "server_host_name",
            "timeout", "max_rows"}


class SourceUrlError(UsageError):
    """A --source value that names no readable source."""


@dataclass(frozen=True)
class SourceUrl:
    """A parsed source URL. `password` is a secret: never shown, never stored."""

    scheme: str  # clickhouse (HTTP or HTTPS) | chdb (embedded engine over a local folder)
    database: str
    table: str
    host: str = ""
    port: int = 8123
    user: str = "default"
    password: str = field(default="", repr=False)
    path: str = ""  # chdb: the data folder
    secure: bool = False
    verify: bool = True
    tls_options: tuple[tuple[str, str], ...] = ()  # ca_cert, client_cert, client_cert_key, server_host_name
    timeout_seconds: int = DEFAULT_TIMEOUT_SECONDS
    max_rows: int = DEFAULT_ROW_CAP

    @property
    def qualified_table(self) -> str:
        """`database`.`table`, quoted for ClickHouse (both names are checked identifiers)."""
        return f"`{self.database}`.`{self.table}`"

    def redacted(self) -> str:
        """The URL as it may be shown or stored: no password."""
        if self.scheme == "chdb":
            return f"chdb://{self.path}?table={self.database}.{self.table}"
        scheme = "clickhouses" if self.secure else "clickhouse"
        user = quote(self.user, safe="")
        options = [f"table={self.table}"] + [f"{name}={quote(value, safe='/')}" for name, value in self.tls_options]
        if not self.verify:
            options.append("verify=false")
        return f"{scheme}://{user}@{self.host}:{self.port}/{self.database}?{'&'.join(options)}"

    def __str__(self) -> str:
        return self.redacted()


def is_source_url(text: str) -> bool:
    """Whether a --source or schedule source is a URL (else it is a file path or a named source)."""
    return any(text.startswith(f"{scheme}://") for scheme in SCHEMES)


def parse_source_url(text: str, *, environ: dict[str, str] | None = None) -> SourceUrl:
    """The SourceUrl `text` names; SourceUrlError (password redacted) when it names none."""
    environ = dict(os.environ) if environ is None else environ
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as error:
        raise SourceUrlError(f"bad source URL {_redact_raw(text)}: {error}", hint=_HINT) from error
    if parts.scheme not in SCHEMES:
        raise SourceUrlError(f"bad source URL {_redact_raw(text)}: the scheme must be clickhouse:// or chdb://",
                             hint=_HINT)
    query = {name: values[-1] for name, values in parse_qs(parts.query, keep_blank_values=True).items()}
    unknown = sorted(set(query) - _OPTIONS)
    if unknown:
        raise SourceUrlError(f"bad source URL {_redact_raw(text)}: unknown option {', '.join(unknown)}",
                             hint=f"options: {', '.join(sorted(_OPTIONS))}")
    timeout = _positive(query.get("timeout"), DEFAULT_TIMEOUT_SECONDS, "timeout", text)
    max_rows = _positive(query.get("max_rows"), DEFAULT_ROW_CAP, "max_rows", text)
    if parts.scheme == "chdb":
        path = unquote(parts.netloc + parts.path)
        database, _, table = query.get("table", "").partition(".")
        if not path or not table:
            raise SourceUrlError(f"bad source URL {_redact_raw(text)}: a chdb URL needs a data folder and "
                                 "?table=DATABASE.TABLE", hint=_HINT)
        _check_identifiers(text, database, table)
        return SourceUrl(scheme="chdb", database=database, table=table, path=path,
                         timeout_seconds=timeout, max_rows=max_rows)
    if not parts.hostname:
        raise SourceUrlError(f"bad source URL {_redact_raw(text)}: no host", hint=_HINT)
    database = unquote(parts.path.strip("/")) or "default"
    table = query.get("table", DEFAULT_TABLE)
    _check_identifiers(text, database, table)
    secure = parts.scheme == "clickhouses" or _flag(query.get("secure"), False, "secure", text)
    tls_options = tuple((name, query[name]) for name in
                        ("ca_cert", "client_cert", "client_cert_key", "server_host_name") if query.get(name))
    return SourceUrl(
        scheme="clickhouse", database=database, table=table, host=parts.hostname,
        port=port or (8443 if secure else 8123), user=unquote(parts.username or "default"),
        password=unquote(parts.password) if parts.password is not None else environ.get(PASSWORD_ENV, ""),
        secure=secure, verify=_flag(query.get("verify"), True, "verify", text), tls_options=tls_options,
        timeout_seconds=timeout, max_rows=max_rows,
    )


def has_password(text: str) -> bool:
    """Whether the URL itself carries a password (a named source must not store one)."""
    try:
        return urlsplit(text).password is not None
    except ValueError:
        return False


def _redact_raw(text: str) -> str:
    """`text` with any password replaced, for messages about a URL that did not parse."""
    return re.sub(r"(//[^/@:]*:)[^@/]*@", r"\1***@", text)


def _check_identifiers(text: str, database: str, table: str) -> None:
    for what, name in (("database", database), ("table", table)):
        if not _IDENTIFIER.match(name):
            raise SourceUrlError(f"bad source URL {_redact_raw(text)}: the {what} name {name!r} is not a plain "
                                 "identifier", hint=_HINT)


def _flag(value: str | None, default: bool, name: str, text: str) -> bool:
    if value is None or value == "":
        return default
    if value.lower() not in _BOOLEAN:
        raise SourceUrlError(f"bad source URL {_redact_raw(text)}: {name} must be true or false", hint=_HINT)
    return _BOOLEAN[value.lower()]


def _positive(value: str | None, default: int, name: str, text: str) -> int:
    if value is None or value == "":
        return default
    if not value.isdigit() or int(value) <= 0:
        raise SourceUrlError(f"bad source URL {_redact_raw(text)}: {name} must be a positive whole number",
                             hint=_HINT)
    return int(value)


_HINT = ("e.g. clickhouse://USER@HOST:8123/DATABASE?table=otel_traces (password in "
         f"{PASSWORD_ENV}; clickhouses:// or secure=true for TLS) or chdb://PATH?table=DATABASE.TABLE")
