"""A run as callers read it: `RunDocument`, built once from its `runs` row, turned into the
`run get --json` document (`to_json()`) only where JSON leaves the program (CLI, MCP, HTTP).

Timestamps stay ISO text (`2026-04-24T18:00:00Z`), as the row reader gives them and the document
carries them; findings, checks and the comparison are the heuristics' and `changes`' own records.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from halo_local.changes import Changes
from halo_local.heuristics import CheckResult, Finding


@dataclass(frozen=True)
class RunEvent:
    """One entry of a run's timeline. `seq` is None for an event handed to `on_event` as it happens
    (it has its number once read back from the timeline)."""

    seq: int | None
    at: str
    kind: str
    message: str
    detail: dict[str, Any]

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> RunEvent:
        """From a row of `events.sql` as `rows_as_dicts` reads it."""
        return cls(seq=row["seq"], at=row["at"], kind=row["kind"], message=row["message"],
                   detail=dict(row["detail"] or {}))

    def to_json(self) -> dict[str, Any]:
        """As `run events --json` lists it."""
        return {"seq": self.seq, "at": self.at, "kind": self.kind, "message": self.message, "detail": self.detail}


OnEvent = Callable[[RunEvent], None]  # sees each event of a run executing in this process


@dataclass(frozen=True)
class RunSettings:
    """The options the run was created with (`options` in the document)."""

    prompt: str
    span_limit: int
    max_subagent_depth: int
    max_turns: int
    no_llm: bool
    time_limit_seconds: int
    thresholds: dict[str, Any] | None  # this run's heuristics overrides

    def to_json(self) -> dict[str, Any]:
        return {"prompt": self.prompt, "spanLimit": self.span_limit, "maxSubagentDepth": self.max_subagent_depth,
                "maxTurns": self.max_turns, "noLlm": self.no_llm, "timeLimitSeconds": self.time_limit_seconds,
                "thresholds": self.thresholds}


@dataclass(frozen=True)
class RunTimings:
    created_at: str
    started_at: str | None
    finished_at: str | None
    heartbeat_at: str | None

    @property
    def duration_seconds(self) -> float | None:
        """From start to end; None until the run has both."""
        if not (self.started_at and self.finished_at):
            return None
        return (datetime.fromisoformat(self.finished_at[:-1])
                - datetime.fromisoformat(self.started_at[:-1])).total_seconds()

    def to_json(self) -> dict[str, Any]:
        return {"createdAt": self.created_at, "startedAt": self.started_at, "finishedAt": self.finished_at,
                "heartbeatAt": self.heartbeat_at, "durationSeconds": self.duration_seconds}


@dataclass(frozen=True)
class CancelRequest:
    requested_at: str
    reason: str | None

    def to_json(self) -> dict[str, Any]:
        return {"requestedAt": self.requested_at, "reason": self.reason}


@dataclass(frozen=True)
class LlmUsage:
    """What the LLM pass did and cost: `ran`, or why not (`skipped_reason`; `degraded` with `error`)."""

    ran: bool | None
    skipped_reason: str | None
    degraded: bool | None
    error: str | None
    model_id: str
    input_tokens: int | None
    output_tokens: int | None
    cache_read_tokens: int | None
    cache_write_tokens: int | None
    cost_usd: float | None
    turns: int | None
    invented_ids_removed: int | None

    def to_json(self) -> dict[str, Any]:
        return {"ran": self.ran, "skippedReason": self.skipped_reason, "degraded": self.degraded,
                "error": self.error, "modelId": self.model_id, "inputTokens": self.input_tokens,
                "outputTokens": self.output_tokens, "cacheReadTokens": self.cache_read_tokens,
                "cacheWriteTokens": self.cache_write_tokens, "costUsd": self.cost_usd, "turns": self.turns,
                "inventedIdsRemoved": self.invented_ids_removed}


@dataclass(frozen=True)
class TraceDataset:
    """The run's snapshot: its file, what it holds (None until taken) and the window's full counts."""

    path: str | None
    spans: int | None
    traces: int | None
    truncated: bool | None
    span_limit: int
    spans_in_window: int | None
    traces_in_window: int | None
    window_start: str
    window_end: str
    previous_window_spans: int | None

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "spans": self.spans, "traces": self.traces, "truncated": self.truncated,
                "spanLimit": self.span_limit, "spansInWindow": self.spans_in_window,
                "tracesInWindow": self.traces_in_window, "windowStart": self.window_start,
                "windowEnd": self.window_end, "previousWindowSpans": self.previous_window_spans}


@dataclass(frozen=True)
class RunDocument:
    """One run: status, agent, window, model, options, timings, worker, LLM use, trace dataset and, when
    read with them, its findings and checks (None when left out, as `run list` does)."""

    run_id: str
    conversation_id: str
    kind: str  # analysis | followup
    parent_run_id: str | None
    schedule_id: str | None
    status: str
    status_reason: str | None
    agent_uuid: str
    agent_name: str | None
    window_start: str
    window_end: str
    model_id: str
    options: RunSettings
    timings: RunTimings
    worker_pid: int | None
    worker_host: str | None
    cancel: CancelRequest | None
    llm: LlmUsage
    trace_dataset: TraceDataset
    source: str | None  # the redacted ClickHouse URL the window was read from; None: the local store
    report_path: str | None
    finding_count: int
    changes: Changes | None
    findings: tuple[Finding, ...] | None = None
    checks: tuple[CheckResult, ...] | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any], *, include_findings: bool) -> RunDocument:
        """From a `runs` row as `rows_as_dicts` reads it (camelCase keys, JSON columns parsed)."""
        findings = row["findings"] or []
        return cls(
            run_id=row["runId"], conversation_id=row["conversationId"], kind=row["kind"],
            parent_run_id=row["parentRunId"], schedule_id=row["scheduleId"], status=row["status"],
            status_reason=row["statusReason"], agent_uuid=row["agentUuid"], agent_name=row["agentName"],
            window_start=row["windowStart"], window_end=row["windowEnd"], model_id=row["modelId"],
            options=RunSettings(
                prompt=row["prompt"], span_limit=row["spanLimit"], max_subagent_depth=row["maxSubagentDepth"],
                max_turns=row["maxTurns"], no_llm=row["noLlm"], time_limit_seconds=row["timeLimitSeconds"],
                thresholds=row["thresholds"]),
            timings=RunTimings(created_at=row["createdAt"], started_at=row["startedAt"],
                               finished_at=row["finishedAt"], heartbeat_at=row["heartbeatAt"]),
            worker_pid=row["workerPid"], worker_host=row["workerHost"],
            cancel=(CancelRequest(requested_at=row["cancelRequestedAt"], reason=row["cancelReason"])
                    if row["cancelRequestedAt"] else None),
            llm=LlmUsage(
                ran=row["llmRan"], skipped_reason=row["llmSkipReason"], degraded=row["degraded"],
                error=row["llmError"], model_id=row["modelId"], input_tokens=row["llmInputTokens"],
                output_tokens=row["llmOutputTokens"], cache_read_tokens=row["llmCacheReadTokens"],
                cache_write_tokens=row["llmCacheWriteTokens"], cost_usd=row["llmCostUsd"], turns=row["llmTurns"],
                invented_ids_removed=row["llmInventedIdsRemoved"]),
            trace_dataset=TraceDataset(
                path=row["snapshotPath"], spans=row["snapshotSpans"], traces=row["snapshotTraces"],
                truncated=row["snapshotTruncated"], span_limit=row["spanLimit"],
                spans_in_window=row["windowSpans"], traces_in_window=row["windowTraces"],
                window_start=row["windowStart"], window_end=row["windowEnd"],
                previous_window_spans=row["previousSpans"]),
            source=row["source"], report_path=row["reportPath"], finding_count=len(findings),
            changes=Changes.from_json(row["changes"]) if row["changes"] else None,
            findings=tuple(Finding.from_json(item) for item in findings) if include_findings else None,
            checks=tuple(CheckResult.from_json(item) for item in row["checks"] or []) if include_findings else None,
        )

    def to_json(self) -> dict[str, Any]:
        """The `run get --json` document (camelCase); `findings` and `checks` only when read with them."""
        document: dict[str, Any] = {
            "runId": self.run_id,
            "conversationId": self.conversation_id,
            "kind": self.kind,
            "parentRunId": self.parent_run_id,
            "scheduleId": self.schedule_id,
            "status": self.status,
            "statusReason": self.status_reason,
            "agentUuid": self.agent_uuid,
            "agentName": self.agent_name,
            "window": {"start": self.window_start, "end": self.window_end},
            "modelId": self.model_id,
            "options": self.options.to_json(),
            "timings": self.timings.to_json(),
            "worker": {"pid": self.worker_pid, "host": self.worker_host},
            "cancel": self.cancel.to_json() if self.cancel is not None else None,
            "llm": self.llm.to_json(),
            "traceDataset": self.trace_dataset.to_json(),
            "source": self.source,
            "reportPath": self.report_path,
            "findingCount": self.finding_count,
            "changes": self.changes.to_json() if self.changes is not None else None,
        }
        if self.findings is not None:
            document["findings"] = [item.to_json() for item in self.findings]
            document["checks"] = [item.to_json() for item in self.checks or ()]
        return document
