"""`conversation list|get|ask` and `model list`: reports, follow-ups and the models that answer them."""

from __future__ import annotations

import sys
from typing import Any

from halo_local import llm, render, runs, untrusted, usecases
from halo_local.cli.help import optional_arguments, real_defaults
from halo_local.cli.output import EXIT_OK, JSON_MODE, Output, default_store, print_event
from halo_local.cli.output_file import write_output
from halo_local.cli.zone import shown_time
from halo_local.errors import NotFoundError, UsageError
from halo_local.flags import parse_bool, parse_int, parse_text
from halo_local.ids import full_id
from halo_local.store import Store


def _run_state(found: dict[str, Any]) -> tuple[str | None, int]:
    """The analysis run's status line when it did not complete, and the exit code: non-zero without a report.

    Without a report the exit code is `run poll`'s for the status (7 while it is still queued or running),
    so `conversation get ID --json | jq ...` under `set -o pipefail` fails instead of writing `null`.
    """
    run = found["run"]
    if run is None or run["status"] == "completed":
        return None, EXIT_OK
    reason = f": {run['statusReason']}" if run["statusReason"] else ""
    line = f"Run {run['runId']} is {run['status']}{reason}"
    has_report = any(message["role"] == "assistant" and message["runId"] == run["runId"]
                     for message in found["messages"])
    if has_report:
        return line, EXIT_OK
    exit_code = runs.POLL_EXIT_CODES.get(run["status"], runs.POLL_TIMEOUT_EXIT_CODE)
    return f"{line} (no report yet)" if exit_code == runs.POLL_TIMEOUT_EXIT_CODE else f"{line} (no report)", exit_code


def _conversation_id(store: Store, conversation_id: str | None, latest: object, agent: str | None) -> str:
    """CONVERSATION_ID, or with --latest the newest conversation (of --agent when given)."""
    wanted_latest = parse_bool(latest, "--latest")
    if conversation_id is not None and wanted_latest:
        raise UsageError("give CONVERSATION_ID or --latest, not both")
    if agent is not None and not wanted_latest:
        raise UsageError("--agent goes with --latest", hint="halo-local conversation get --latest --agent NAME_OR_UUID")
    if wanted_latest:
        return usecases.latest_conversation_id(store, parse_text(agent))
    if conversation_id is None:
        raise UsageError("conversation get needs CONVERSATION_ID (or --latest)",
                         hint="`halo-local conversation list` lists conversations")
    return full_id(store, "conversation", conversation_id)


class ConversationCommands:
    """Conversations: a run's report, then follow-up questions and answers."""

    def list(self, limit: int = 50) -> Output:
        """Conversations newest first."""
        rows = usecases.list_conversations(default_store(), limit=parse_int(limit, "--limit", 1))
        text = render.table(
            rows,
            [("conversationId", "CONVERSATION"), ("title", "TITLE"), ("status", "STATUS"),
             ("messageCount", "MESSAGES"), ("createdAt", "CREATED", shown_time)],
            empty="No conversations yet. `halo-local run create` starts one.",
        )
        return Output(rows, text)

    @optional_arguments("conversation_id")
    @real_defaults(agent="any agent")
    def get(self, conversation_id: str | None = None, html: bool = False, latest: bool = False,
            agent: str | None = None, output: str | None = None) -> Output:
        """Every message in full (the first assistant message is the report); --json is the raw payload.

        --html prints the report as its self-contained HTML page instead (the run's report.html, written
        first when missing): `halo-local conversation get ID --html > report.html`. A run that did not
        complete is named with its status and reason; without a report it exits like `run poll` (7 while
        the run is queued or running). --latest (instead of CONVERSATION_ID) takes the newest conversation,
        of --agent (UUID or name) when given. --output FILE writes the text (or the page) to FILE.
        """
        store = default_store()
        with store.held_open():  # the id's lookup and the conversation: one opening of the database
            found = usecases.get_conversation(store, _conversation_id(store, conversation_id, latest, agent))
        state, exit_code = _run_state(found)
        if parse_bool(html, "--html"):
            if found["run"] is None:
                raise NotFoundError(f"conversation {found['conversationId']} has no analysis run, so no report")
            path = runs.report_html(store, found["run"]["runId"])
            page = Output({"conversationId": found["conversationId"], "runId": found["run"]["runId"],
                           "path": str(path)}, path.read_text(encoding="utf-8").rstrip("\n"))
            return write_output(page, output, has_report=True)
        if state and JSON_MODE.get():
            sys.stderr.write(untrusted.terminal_line(state) + "\n")
        parts = [f"Conversation {found['conversationId']}: {found['title']}"]
        if state:
            parts.append(state)
        for message in found["messages"]:
            when = shown_time(message["createdAt"])
            parts.append(f"\n--- {message['role']} ({message['runId']}, {when}) ---\n")
            parts.append(message["content"].rstrip("\n"))
        conversation = Output(found, "\n".join(parts), exit_code)
        return write_output(conversation, output, has_report=exit_code == EXIT_OK)

    @real_defaults(model_id="the model of the conversation's analysis")
    def ask(self, conversation_id: str, question: str, no_llm: bool = False, model_id: str | None = None) -> Output:
        """Ask a follow-up; answered from the report, the findings and the run's data."""
        answered = usecases.ask(
            default_store(), full_id(default_store(), "conversation", conversation_id), str(question),
            no_llm=parse_bool(no_llm, "--no-llm"),
            model_id=parse_text(model_id), on_event=print_event if sys.stderr.isatty() else None,
        )
        run = answered.run
        exit_code = runs.POLL_EXIT_CODES.get(run.status, EXIT_OK)
        reason = f": {run.status_reason}" if run.status_reason else ""
        text = answered.answer or f"No answer: the follow-up run {run.run_id} ended {run.status}{reason}"
        return Output(answered.to_json(), text.rstrip("\n"), exit_code)


class ModelCommands:
    """The Anthropic models the LLM pass can use."""

    def list(self) -> Output:
        """Model ids `--model-id` accepts; the default is marked."""
        rows = [{"modelId": item.model_id, "displayName": item.display_name, "default": item.default}
                for item in llm.model_catalog()]
        text = "\n".join(f"{'*' if row['default'] else ' '} {row['modelId']:<28} {row['displayName']}" for row in rows)
        return Output(rows, text + "\n(* default)")
