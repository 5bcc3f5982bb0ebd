"""What the heuristics report: a Finding (one problem, measured, with evidence), a CheckResult
(what a detector examined and concluded) and an Analysis (both, plus summary statistics)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from halo_local.common.timestamps import iso
from halo_local.heuristics.ranking import impact_score

__all__ = ["FINDING_COLUMNS", "FIX_KINDS", "MAX_EXAMPLES", "Analysis", "CheckResult", "Finding", "FixTarget"]

MAX_EXAMPLES = 5

FINDING_COLUMNS: tuple[str, ...] = (
    "category",
    "severity",
    "title",
    "subject",
    "metric",
    "value",
    "baseline",
    "affected_traces",
    "affected_spans",
    "trace_share",
    "span_share",
    "impact_seconds",
    "impact_usd",
    "failed_traces",
    "first_seen",
    "last_seen",
    "example_trace_ids",
    "example_span_ids",
    "detail",
)


# Parts of a subject that name one instance, not the problem (uuids, long hex ids, 9+ digit numbers):
# masked in a finding's id, so the same problem on another instance keeps its id across runs.
_INSTANCE_PART = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"  # uuid
    r"|\b(?=[0-9a-f]*[0-9])(?=[0-9a-f]*[a-f])[0-9a-f]{12,}\b"      # hex id
    r"|\b[0-9]{9,}\b",                                              # epoch, pid-like counter (not a model's date)
    re.IGNORECASE)


def masked_subject(subject: str | None) -> str:
    """The subject with instance names masked (`job-1714000000` and `job-1714003600` are one subject)."""
    return _INSTANCE_PART.sub("<id>", subject or "")


def _parse_iso(value: str | None) -> datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(value.removesuffix("Z"))


FIX_KINDS: tuple[str, ...] = ("agent", "tool", "model", "infrastructure", "instrumentation")


@dataclass(frozen=True)
class FixTarget:
    """The component that must change to fix a finding: an agent (its prompt, its code, how it calls
    tools), a tool, a model (its choice or configuration), the infrastructure, or the
    instrumentation. `name` is None when the traces do not name it (not "unknown")."""

    kind: str
    name: str | None

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> FixTarget | None:
        if not data or data.get("kind") not in FIX_KINDS:
            return None
        return cls(kind=str(data["kind"]), name=None if data.get("name") is None else str(data["name"]))


@dataclass(frozen=True)
class Finding:
    """One problem a detector found, measured, with deterministic evidence.

    `impact_usd` is None when the money involved cannot be priced (never 0 for unknown);
    `baseline` is None when there is nothing to compare with. Shares are fractions in [0, 1]:
    `trace_share` of the window's traces, `span_share` of the spans the finding is about (the
    subject's spans for failures, the agent's model calls for output problems, ...).
    """

    category: str
    severity: str
    title: str
    subject: str | None
    agent_uuid: str
    metric: str
    value: float | None
    baseline: float | None
    affected_traces: int
    affected_spans: int
    trace_share: float
    span_share: float
    impact_seconds: float
    impact_usd: float | None
    failed_traces: int
    first_seen: datetime | None
    last_seen: datetime | None
    example_trace_ids: tuple[str, ...]
    example_span_ids: tuple[str, ...]
    detail: dict[str, Any] = field(default_factory=dict, hash=False, compare=True)
    fix_target: FixTarget | None = None
    # Every trace the finding covers (the examples are its first MAX_EXAMPLES): what trace
    # verdicts are built from. Empty for findings stored before it was recorded.
    affected_trace_ids: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """Stable id across runs: a hash of what identifies the problem (category, subject with instance
        names masked, metric, fix target or error signature), never of its counts."""
        parts = [self.category, masked_subject(self.subject), self.metric, str(self.detail.get("spanType") or "")]
        if self.detail.get("reasons"):  # one finding per component to fix: its reasons vary, it stays
            parts += ["", f"{self.fix_target.kind}:{self.fix_target.name or ''}" if self.fix_target else ""]
        else:
            parts.append(str(self.detail.get("signature") or ""))
        discriminator = "\x1f".join(parts)
        digest = hashlib.sha1(discriminator.encode("utf-8")).hexdigest()[:8]
        return f"{self.category}:{self.subject or '-'}:{digest}"

    @property
    def score(self) -> float:
        """Ranking score (the formula is in `ranking.py`)."""
        return impact_score(self.severity, self.failed_traces, self.impact_seconds, self.impact_usd)

    def to_json(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "severity": self.severity,
            "title": self.title,
            "subject": self.subject,
            "agentUuid": self.agent_uuid,
            "metric": self.metric,
            "value": self.value,
            "baseline": self.baseline,
            "affectedTraces": self.affected_traces,
            "affectedSpans": self.affected_spans,
            "traceShare": self.trace_share,
            "spanShare": self.span_share,
            "impactSeconds": self.impact_seconds,
            "impactUsd": self.impact_usd,
            "failedTraces": self.failed_traces,
            "firstSeenAt": iso(self.first_seen),
            "lastSeenAt": iso(self.last_seen),
            "exampleTraceIds": list(self.example_trace_ids),
            "exampleSpanIds": list(self.example_span_ids),
            "affectedTraceIds": list(self.affected_trace_ids),
            "detail": self.detail,
            "fixTarget": self.fix_target.to_json() if self.fix_target else None,
            "key": self.key,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Finding:
        return cls(
            category=data["category"],
            severity=data["severity"],
            title=data["title"],
            subject=data.get("subject"),
            agent_uuid=data["agentUuid"],
            metric=data["metric"],
            value=data.get("value"),
            baseline=data.get("baseline"),
            affected_traces=int(data["affectedTraces"]),
            affected_spans=int(data["affectedSpans"]),
            trace_share=float(data["traceShare"]),
            span_share=float(data["spanShare"]),
            impact_seconds=float(data["impactSeconds"]),
            impact_usd=data.get("impactUsd"),
            failed_traces=int(data["failedTraces"]),
            first_seen=_parse_iso(data.get("firstSeenAt")),
            last_seen=_parse_iso(data.get("lastSeenAt")),
            example_trace_ids=tuple(data.get("exampleTraceIds") or ()),
            example_span_ids=tuple(data.get("exampleSpanIds") or ()),
            detail=dict(data.get("detail") or {}),
            fix_target=FixTarget.from_json(data.get("fixTarget")),
            affected_trace_ids=tuple(data.get("affectedTraceIds") or ()),
        )


@dataclass(frozen=True)
class CheckResult:
    """What one detector examined and what it concluded, so a report can say "checked and healthy".

    status: `findings` (the detector reported something), `healthy` (it had data to examine and
    found nothing), `not_applicable` (the window holds nothing it could examine, e.g. no tool spans).
    """

    category: str
    status: str
    findings: int
    checked: int  # how many items it examined ...
    unit: str  # ... of what: spans, tool calls, model calls, traces
    note: str  # one human sentence

    def to_json(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "status": self.status,
            "findings": self.findings,
            "checked": self.checked,
            "unit": self.unit,
            "note": self.note,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CheckResult:
        return cls(category=data["category"], status=data["status"], findings=int(data["findings"]),
                   checked=int(data["checked"]), unit=data["unit"], note=data["note"])


@dataclass(frozen=True)
class Analysis:
    """Everything the heuristics produce for one window: findings (ranked), per-check coverage,
    and summary statistics (latency percentiles per subject, cost per model and per trace)."""

    findings: list[Finding]
    checks: list[CheckResult]
    stats: dict[str, Any]
    # How each trace of the window ended (`_outcomes.sql`: trace_id, outcome, ended_badly, ...),
    # in trace id order: with the findings' affected traces, the run's trace verdicts.
    outcomes: list[dict[str, Any]] = field(default_factory=list)


