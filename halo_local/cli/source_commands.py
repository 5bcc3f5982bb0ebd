"""`halo-local sources`: named shortcuts for ClickHouse source URLs."""

from __future__ import annotations

from halo_local import render
from halo_local.cli.output import Output, default_store
from halo_local.flags import parse_text
from halo_local.sources.named import add_named_source, list_named_sources


class SourceCommands:
    """Named ClickHouse sources for --source (stored without any password)."""

    def add(self, name: str, url: str) -> Output:
        """Name a source URL: clickhouse://USER@HOST:8123/DATABASE?table=otel_traces or chdb://PATH?table=DB.TABLE."""
        added = add_named_source(default_store(), str(parse_text(name)), str(parse_text(url)))
        return Output(added, f"{added['name']}: {added['url']}")

    def list(self) -> Output:
        """The named sources."""
        sources = list_named_sources(default_store())
        return Output(sources, render.table(sources, [("name", "NAME"), ("url", "URL")], empty="no named sources"))
