"""Conversations: a run's report as the first assistant message, then follow-up questions and answers.

The `conversation get --json` document mirrors the hosted product's payload, so
`jq -r '.messages | map(select(.role == "assistant"))[0].content'` extracts the report.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from halo_local import runs, traces
from halo_local.errors import NotFoundError, UsageError
from halo_local.resources import sql_text
from halo_local.store import Store


def list_conversations(store: Store, *, limit: int = 50) -> list[dict[str, Any]]:
    """Conversations newest first, each with its message count and its analysis run's status."""
    if isinstance(limit, bool) or int(limit) < 1:
        raise UsageError(f"--limit must be at least 1; got {limit!r}")
    runs.reap_stale_runs(store)
    with store.connect() as connection:
        cursor = connection.execute(sql_text("runs/list_conversations.sql"), {"row_limit": int(limit)})
        return traces.rows_as_dicts(cursor)


def get_conversation(store: Store, conversation_id: str) -> dict[str, Any]:
    """Every message (role, content) in order, plus the analysis run and its trace dataset."""
    wanted = str(conversation_id).strip()
    runs.reap_stale_runs(store)
    with store.connect() as connection:
        head = traces.rows_as_dicts(connection.execute(
            "SELECT * FROM conversations WHERE conversation_id = $conversation_id", {"conversation_id": wanted}))
        if not head:
            raise NotFoundError(f"no conversation with id {wanted!r}",
                                hint="`halo-local conversation list` lists conversations")
        messages = traces.rows_as_dicts(connection.execute(
            "SELECT seq, role, content, run_id, created_at FROM messages"
            " WHERE conversation_id = $conversation_id ORDER BY seq", {"conversation_id": wanted}))
    conversation_runs = list(reversed(runs.list_runs(store, limit=10_000, conversation_id=wanted)))
    analysis = next((item for item in conversation_runs if item["kind"] == "analysis"), None)
    run = runs.get_run(store, analysis["runId"]) if analysis else None
    return {
        **head[0],
        "messages": messages,
        "run": run,
        "runs": conversation_runs,
        "traceDataset": run["traceDataset"] if run else None,
    }


def ask(
    store: Store,
    conversation_id: str,
    question: str,
    *,
    no_llm: bool = False,
    model_id: str | None = None,
    on_event: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Ask a follow-up: a new run of the conversation answers it here, and its answer is returned.

    With the LLM available the model answers from the report, the findings and the run's snapshot;
    without it (no key, --no-llm, or the LLM failing) the answer quotes the matching findings.
    """
    run_id = runs.create_followup_run(store, str(conversation_id).strip(), question, no_llm=no_llm,
                                      model_id=model_id)
    runs.execute_run(store, run_id, on_event=on_event)
    run = runs.get_run(store, run_id, include_findings=False)
    with store.connect() as connection:
        rows = connection.execute(
            "SELECT content FROM messages WHERE run_id = $run_id AND role = 'assistant' ORDER BY seq DESC LIMIT 1",
            {"run_id": run_id},
        ).fetchall()
    answer = rows[0][0] if rows else None
    return {"conversationId": run["conversationId"], "runId": run_id, "status": run["status"],
            "statusReason": run["statusReason"], "answer": answer, "run": run}
