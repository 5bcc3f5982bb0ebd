"""`conversation list|get|ask` and `model list`: reports, follow-ups and the models that answer them."""

from __future__ import annotations

import sys

from halo_local import llm, render, runs, usecases
from halo_local.cli.help import real_defaults
from halo_local.cli.output import EXIT_OK, Output, default_store, print_event
from halo_local.errors import NotFoundError
from halo_local.flags import parse_bool, parse_int, parse_text


class ConversationCommands:
    """Conversations: a run's report, then follow-up questions and answers."""

    def list(self, limit: int = 50) -> Output:
        """Conversations newest first."""
        rows = usecases.list_conversations(default_store(), limit=parse_int(limit, "--limit", 1))
        text = render.table(
            rows,
            [("conversationId", "CONVERSATION"), ("title", "TITLE"), ("status", "STATUS"),
             ("messageCount", "MESSAGES"), ("createdAt", "CREATED", render.timestamp)],
            empty="No conversations yet. `halo-local run create` starts one.",
        )
        return Output(rows, text)

    def get(self, conversation_id: str, html: bool = False) -> Output:
        """Every message in full (the first assistant message is the report); --json is the raw payload.

        --html prints the report as its self-contained HTML page instead (the run's report.html, written
        first when missing): `halo-local conversation get ID --html > report.html`.
        """
        store = default_store()
        found = usecases.get_conversation(store, str(conversation_id))
        if parse_bool(html, "--html"):
            if found["run"] is None:
                raise NotFoundError(f"conversation {found['conversationId']} has no analysis run, so no report")
            path = runs.report_html(store, found["run"]["runId"])
            return Output({"conversationId": found["conversationId"], "runId": found["run"]["runId"],
                           "path": str(path)}, path.read_text(encoding="utf-8").rstrip("\n"))
        parts = [f"Conversation {found['conversationId']}: {found['title']}"]
        for message in found["messages"]:
            parts.append(f"\n--- {message['role']} ({message['runId']}, {render.timestamp(message['createdAt'])}) ---\n")
            parts.append(message["content"].rstrip("\n"))
        return Output(found, "\n".join(parts))

    @real_defaults(model_id="the model of the conversation's analysis")
    def ask(self, conversation_id: str, question: str, no_llm: bool = False, model_id: str | None = None) -> Output:
        """Ask a follow-up; answered from the report, the findings and the run's data."""
        answered = usecases.ask(
            default_store(), str(conversation_id), str(question), no_llm=parse_bool(no_llm, "--no-llm"),
            model_id=parse_text(model_id), on_event=print_event if sys.stderr.isatty() else None,
        )
        exit_code = runs.POLL_EXIT_CODES.get(answered["status"], EXIT_OK)
        reason = f": {answered['statusReason']}" if answered["statusReason"] else ""
        text = answered["answer"] or f"No answer: the follow-up run {answered['runId']} ended {answered['status']}{reason}"
        return Output(answered, text.rstrip("\n"), exit_code)


class ModelCommands:
    """The Anthropic models the LLM pass can use."""

    def list(self) -> Output:
        """Model ids `--model-id` accepts; the default is marked."""
        rows = [{"modelId": item.model_id, "displayName": item.display_name, "default": item.default}
                for item in llm.model_catalog()]
        text = "\n".join(f"{'*' if row['default'] else ' '} {row['modelId']:<28} {row['displayName']}" for row in rows)
        return Output(rows, text + "\n(* default)")
