"""The installed package's own version, shown by `--version` and announced by the MCP server."""

from __future__ import annotations

import importlib.metadata


def package_version() -> str | None:
    """halo-local's version, or None when it runs from a tree that was never installed."""
    try:
        return importlib.metadata.version("halo-local")
    except importlib.metadata.PackageNotFoundError:
        return None
