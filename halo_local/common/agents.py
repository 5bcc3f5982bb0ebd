"""The stable id of an agent, shared by every source (files, the receiver, ClickHouse) without importing ingest."""

from __future__ import annotations

import uuid

# agent_uuid = uuid5(AGENT_NAMESPACE, service + "\x1f" + agent): the same agent gets the same id on every
# machine and every load. (The namespace is uuid5(NAMESPACE_URL, "halo-local:agent"); never change it.)
AGENT_NAMESPACE = uuid.UUID("d9112c5c-7aeb-5985-a1a6-18f38d8c004a")


def agent_uuid_for(service_name: str | None, agent_name: str | None) -> str:
    """The stable id of an agent: uuid5 of its service and name (a missing one counts as empty)."""
    return str(uuid.uuid5(AGENT_NAMESPACE, f"{service_name or ''}\x1f{agent_name or ''}"))
