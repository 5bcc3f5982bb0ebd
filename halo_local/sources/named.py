"""`--source` values: a source URL, or the name a `sources add` gave one (stored without its password)."""

from __future__ import annotations

import re
from typing import Any

from halo_local.errors import NotFoundError, UsageError
from halo_local.resources import sql_text
from halo_local.sources.clickhouse import ClickHouseSource
from halo_local.sources.url import PASSWORD_ENV, has_password, is_source_url, parse_source_url
from halo_local.store import Store

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")


def add_named_source(store: Store, name: str, url: str) -> dict[str, Any]:
    """Remember `url` as `name` (replacing an earlier one); a URL holding a password is refused, so that
    no password is ever stored."""
    if not _NAME.match(name):
        raise UsageError(f"source name {name!r} must start with a letter and hold only letters, digits, . _ -")
    if has_password(url):
        raise UsageError("a named source is stored without a password, and this URL holds one",
                         hint=f"drop it from the URL and set {PASSWORD_ENV} where halo-local runs")
    parsed = parse_source_url(url, environ={})
    with store.transaction() as connection:
        connection.execute(sql_text("sources/named_add.sql"), {"name": name, "url": parsed.redacted()})
    return {"name": name, "url": parsed.redacted()}


def list_named_sources(store: Store) -> list[dict[str, Any]]:
    with store.connect() as connection:
        rows = connection.execute(sql_text("sources/named_list.sql")).fetchall()
    return [{"name": name, "url": url} for name, url in rows]


def resolve_source(store: Store, text: str) -> ClickHouseSource:
    """The ClickHouseSource a --source value names: a URL, or a named source."""
    value = str(text).strip()
    if is_source_url(value):
        return ClickHouseSource(parse_source_url(value))
    with store.connect() as connection:
        row = connection.execute(sql_text("sources/named_url.sql"), {"name": value}).fetchone()
    if row is None:
        raise NotFoundError(f"no source named {value!r}",
                            hint="pass a clickhouse:// or chdb:// URL, or name one with `halo-local sources add NAME URL`")
    return ClickHouseSource(parse_source_url(row[0]))
