"""The read side: a run as its `run get --json` document, the run list and a run's timeline.

Every read first reaps the runs whose worker died, so no reader sees a dead run as `running`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from halo_local.common.rows import rows_as_dicts
from halo_local.errors import NotFoundError
from halo_local.flags import parse_int
from halo_local.resources import sql_text
from halo_local.runs.rows import JSON_COLUMNS
from halo_local.runs.worker import reap_stale_runs
from halo_local.store import Store


def get_run(store: Store, run_id: str, *, include_findings: bool = True) -> dict[str, Any]:
    """A run's metadata: status, agent, window, model, options, timings, LLM usage, trace dataset."""
    reap_stale_runs(store)
    with store.connect() as connection:
        cursor = connection.execute(sql_text("runs/run.sql"), {"run_id": str(run_id).strip()})
        rows = rows_as_dicts(cursor, json_columns=JSON_COLUMNS)
    if not rows:
        raise NotFoundError(f"no run with id {str(run_id)!r}", hint="`halo-local run list` lists runs")
    return run_document(rows[0], include_findings=include_findings)


def list_runs(store: Store, *, limit: int = 50, conversation_id: str | None = None,
              schedule_id: str | None = None) -> list[dict[str, Any]]:
    """Runs newest first (without their findings)."""
    reap_stale_runs(store)
    with store.connect() as connection:
        cursor = connection.execute(sql_text("runs/list_runs.sql"), {
            "conversation_id": conversation_id, "schedule_id": schedule_id, "row_limit": int(limit)})
        rows = rows_as_dicts(cursor, json_columns=JSON_COLUMNS)
    return [run_document(row, include_findings=False) for row in rows]


def run_document(row: Mapping[str, Any], *, include_findings: bool) -> dict[str, Any]:
    """The `run get --json` document for one `runs` row (camelCase keys from `rows_as_dicts`)."""
    started, finished = row["startedAt"], row["finishedAt"]
    duration = None
    if started and finished:
        duration = (datetime.fromisoformat(finished[:-1]) - datetime.fromisoformat(started[:-1])).total_seconds()
    findings = row["findings"] or []
    document: dict[str, Any] = {
        "runId": row["runId"],
        "conversationId": row["conversationId"],
        "kind": row["kind"],
        "parentRunId": row["parentRunId"],
        "scheduleId": row["scheduleId"],
        "status": row["status"],
        "statusReason": row["statusReason"],
        "agentUuid": row["agentUuid"],
        "agentName": row["agentName"],
        "window": {"start": row["windowStart"], "end": row["windowEnd"]},
        "modelId": row["modelId"],
        "options": {
            "prompt": row["prompt"], "spanLimit": row["spanLimit"], "maxSubagentDepth": row["maxSubagentDepth"],
            "maxTurns": row["maxTurns"], "noLlm": row["noLlm"], "timeLimitSeconds": row["timeLimitSeconds"],
            "thresholds": row["thresholds"],
        },
        "timings": {
            "createdAt": row["createdAt"], "startedAt": started, "finishedAt": finished,
            "heartbeatAt": row["heartbeatAt"], "durationSeconds": duration,
        },
        "worker": {"pid": row["workerPid"], "host": row["workerHost"]},
        "cancel": ({"requestedAt": row["cancelRequestedAt"], "reason": row["cancelReason"]}
                   if row["cancelRequestedAt"] else None),
        "llm": {
            "ran": row["llmRan"], "skippedReason": row["llmSkipReason"], "degraded": row["degraded"],
            "error": row["llmError"], "modelId": row["modelId"], "inputTokens": row["llmInputTokens"],
            "outputTokens": row["llmOutputTokens"], "cacheReadTokens": row["llmCacheReadTokens"],
            "cacheWriteTokens": row["llmCacheWriteTokens"], "costUsd": row["llmCostUsd"],
            "turns": row["llmTurns"], "inventedIdsRemoved": row["llmInventedIdsRemoved"],
        },
        "traceDataset": {
            "path": row["snapshotPath"], "spans": row["snapshotSpans"], "traces": row["snapshotTraces"],
            "truncated": row["snapshotTruncated"], "spanLimit": row["spanLimit"],
            "spansInWindow": row["windowSpans"], "tracesInWindow": row["windowTraces"],
            "windowStart": row["windowStart"], "windowEnd": row["windowEnd"],
            "previousWindowSpans": row["previousSpans"],
        },
        "source": row["source"],
        "reportPath": row["reportPath"],
        "findingCount": len(findings),
        "changes": row["changes"],
    }
    if include_findings:
        document["findings"] = findings
        document["checks"] = row["checks"] or []
    return document


def run_events(store: Store, run_id: str, *, limit: int = 100, after_seq: int = 0) -> list[dict[str, Any]]:
    """The run's timeline: its latest `limit` events after `after_seq`, oldest first."""
    parse_int(limit, "--limit", 1, None)
    get_run(store, run_id, include_findings=False)
    with store.connect() as connection:
        cursor = connection.execute(sql_text("runs/events.sql"), {
            "run_id": str(run_id).strip(), "after_seq": int(after_seq), "row_limit": int(limit)})
        return rows_as_dicts(cursor, json_columns=JSON_COLUMNS)
