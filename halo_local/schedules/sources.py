"""A schedule's `--source` paths and globs (made absolute when given, loaded before each run), and at most
one ClickHouse source (a URL or a `sources add` name) that its runs read instead of the local store."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

from halo_local.errors import InvalidTraceFileError, NotTraceFileError
from halo_local.sources.named import list_named_sources
from halo_local.sources.url import is_source_url
from halo_local.store import Store


def parse_sources(value: Any) -> tuple[str, ...]:
    """`--source` values (one, a list, or a JSON array of them) as absolute paths or globs.

    Paths are made absolute against the current directory now, so that cron, which runs elsewhere,
    loads the same files. Empty values are dropped (`--source ""` on update clears the list).
    """
    if value is None:
        return ()
    if isinstance(value, str):
        items: list[Any] = [value]
        if value.strip().startswith("["):
            try:
                decoded = json.loads(value)
            except ValueError:
                decoded = None
            if isinstance(decoded, list):
                items = decoded
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        items = [value]
    found: list[str] = []
    for item in items:
        text = str(item).strip()
        if is_source_url(text) or _may_be_source_name(text):
            if text not in found:
                found.append(text)
        elif text:
            absolute = os.path.abspath(os.path.expanduser(text))
            if absolute not in found:
                found.append(absolute)
    return tuple(found)


def _may_be_source_name(text: str) -> bool:
    """A bare word (no separator, dot or glob) that is no existing path may name a ClickHouse source
    (checked against the store later); `a.json` stays a file."""
    return bool(text) and not any(mark in text for mark in f"{os.sep}.*?[~") and not os.path.exists(text)


def remote_sources(store: Store, sources: Sequence[str]) -> list[str]:
    """The sources that are ClickHouse URLs or `sources add` names rather than paths."""
    names = {item["name"] for item in list_named_sources(store)}
    return [item for item in sources if is_source_url(item) or item in names]


def load_sources(store: Store, sources: Sequence[str], *, skip_invalid: bool) -> list[str]:
    """Load a schedule's sources incrementally; returns a warning per file left out or loaded in part.

    Strict, it is `traces load`: the first bad record stops the load and fails the fire. With
    `skip_invalid`, which matters under cron, an exporter may be half-way through writing a file: bad
    records are left out (the complete lines load now, the rest once the file has changed; reloading
    stores no duplicates), and so is a file that cannot be read at all yet (a .gz still being written,
    a first record still incomplete), so that it stops neither the other files nor the run.
    """
    from halo_local.ingest import describe_skipped, load_paths  # pyarrow: not at CLI start-up
    from halo_local.ingest.readers import expand_paths, named_files

    remote = remote_sources(store, sources)
    sources = [item for item in sources if item not in remote]
    if not sources:
        return []
    if not skip_invalid:
        load_paths(store, list(sources))
        return []
    warnings = []
    named = named_files(sources)
    for path in expand_paths(sources):
        try:
            summary = load_paths(store, [path], skip_invalid=True)
        except NotTraceFileError:
            if path in named:
                raise
        except InvalidTraceFileError as error:
            warnings.append(f"left out {error.message}")
        else:
            warnings.extend(describe_skipped(entry) for entry in summary.skipped_records())
    return warnings
