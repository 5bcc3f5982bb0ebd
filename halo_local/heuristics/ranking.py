"""Ranking by impact (documented here because reports depend on it):

    points = 10 * failed_traces + impact_seconds / 60 + 10 * impact_usd (0 when unknown)
    score  = severity_weight * (1 + points),   severity_weight: high 9, medium 3, low 1

A failed trace counts like a dollar or ten minutes of wasted wall time; severity multiplies, so a
medium finding outranks a high one only when its measured impact is about three times larger.
Findings sort by score (descending), ties by category order (`CATEGORIES`), then the earliest first
seen (a later problem often follows from an earlier one, so the earlier one is read first), subject,
then key.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from halo_local.heuristics.registry import CATEGORIES

if TYPE_CHECKING:
    from halo_local.heuristics.finding import Finding

__all__ = ["SEVERITIES", "SEVERITY_WEIGHTS", "impact_score", "rank_findings"]

SEVERITIES: tuple[str, ...] = ("high", "medium", "low")
SEVERITY_WEIGHTS: dict[str, float] = {"high": 9.0, "medium": 3.0, "low": 1.0}
FAILED_TRACE_POINTS = 10.0
SECONDS_PER_POINT = 60.0
POINTS_PER_USD = 10.0


def impact_score(severity: str, failed_traces: int, impact_seconds: float, impact_usd: float | None) -> float:
    """The ranking score of a finding (see the module docstring for the formula)."""
    points = FAILED_TRACE_POINTS * failed_traces + impact_seconds / SECONDS_PER_POINT + POINTS_PER_USD * (impact_usd or 0.0)
    return round(SEVERITY_WEIGHTS.get(severity, 1.0) * (1.0 + points), 6)


def rank_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Highest impact first; ties by category order, earliest first seen, subject, then key (deterministic)."""
    order = {category: index for index, category in enumerate(CATEGORIES)}
    return sorted(
        findings,
        key=lambda item: (-item.score, order.get(item.category, len(order)), _seen_order(item), item.subject or "",
                          item.key),
    )


def _seen_order(finding: Finding) -> float:
    """When the finding was first seen, as a sort key (unknown: last)."""
    return finding.first_seen.timestamp() if finding.first_seen is not None else float("inf")


