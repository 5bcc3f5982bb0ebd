"""Conversations: a run's report as the first assistant message, then follow-up questions and answers.

This module owns the `conversations` and `messages` rows: runs write through it (inside their own
transactions) and readers get them from it. It knows nothing of runs; the `conversation get`
document, which adds the conversation's runs, is assembled in `halo_local.usecases`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import duckdb

from halo_local.common.rows import rows_as_dicts
from halo_local.errors import NotFoundError, UsageError
from halo_local.resources import sql_text
from halo_local.store import Store


def new_conversation_id() -> str:
    return "conv_" + uuid.uuid4().hex[:12]


def insert_conversation(connection: duckdb.DuckDBPyConnection, *, conversation_id: str, title: str,
                        agent_uuid: str, agent_name: str | None, created_at: datetime) -> None:
    """Record a new conversation (in the caller's transaction, beside its first run)."""
    connection.execute(sql_text("conversations/insert_conversation.sql"), {
        "conversation_id": conversation_id, "title": title, "agent_uuid": agent_uuid,
        "agent_name": agent_name, "created_at": created_at,
    })


def add_message(connection: duckdb.DuckDBPyConnection, conversation_id: str, role: str, content: str,
                run_id: str | None, at: datetime) -> None:
    """Append a message and move the conversation's `updated_at` (in the caller's transaction)."""
    connection.execute(sql_text("conversations/insert_message.sql"), {
        "conversation_id": conversation_id, "role": role, "content": content, "run_id": run_id, "created_at": at,
    })
    connection.execute(sql_text("conversations/touch.sql"), {"at": at, "conversation_id": conversation_id})


def history(store: Store, conversation_id: str, *, excluding_run_id: str) -> list[tuple[str, str]]:
    """(role, content) of the conversation's messages in order, without those of `excluding_run_id`."""
    with store.connect() as connection:
        rows = connection.execute(sql_text("conversations/history.sql"), {
            "conversation_id": conversation_id, "run_id": excluding_run_id}).fetchall()
    return [(str(role), str(content)) for role, content in rows]


def answer_of(store: Store, run_id: str) -> str | None:
    """The last assistant message `run_id` added, if any."""
    with store.connect() as connection:
        rows = connection.execute(sql_text("conversations/answer.sql"), {"run_id": run_id}).fetchall()
    return str(rows[0][0]) if rows else None


def list_conversations(store: Store, *, limit: int = 50) -> list[dict[str, Any]]:
    """Conversations newest first, each with its message count and its analysis run's status."""
    if isinstance(limit, bool) or int(limit) < 1:
        raise UsageError(f"--limit must be at least 1; got {limit!r}")
    with store.connect() as connection:
        cursor = connection.execute(sql_text("conversations/list_conversations.sql"), {"row_limit": int(limit)})
        return rows_as_dicts(cursor)


def conversation_with_messages(store: Store, conversation_id: str) -> dict[str, Any]:
    """The conversation's row (camelCase) with `messages`: every message (role, content) in order."""
    wanted = str(conversation_id).strip()
    with store.connect() as connection:
        head = rows_as_dicts(connection.execute(
            sql_text("conversations/conversation.sql"), {"conversation_id": wanted}))
        if not head:
            raise NotFoundError(f"no conversation with id {wanted!r}",
                                hint="`halo-local conversation list` lists conversations")
        messages = rows_as_dicts(connection.execute(
            sql_text("conversations/messages.sql"), {"conversation_id": wanted}))
    return {**head[0], "messages": messages}
