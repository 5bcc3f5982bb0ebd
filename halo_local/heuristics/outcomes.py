"""Severity by impact on outcomes: how many traces a finding touches and how often those end badly.

The detectors judge from what they count (spans, repeats, failure rates); this pass, run on every
finding once the window's trace outcomes are known (`_outcomes.sql`), settles severity (which
ranking multiplies by) by how the affected traces ended: badly means a failed root, a hand-off, a
give-up or a run cut short. `failed_traces` keeps its meaning (the traces this failure failed).

- a high finding whose traces all ended well and that touches less than
  `failure_high_trace_share` of the window becomes medium (many spans in a few healthy runs is not
  high impact). Cost and latency keep theirs: their severity is measured in dollars and seconds;
- a medium finding becomes high when at least `outcome_min_traces` of its traces, and
  `outcome_high_bad_share` of them, ended badly, over at least `failure_high_trace_share` of the window.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from halo_local.config import Thresholds
from halo_local.heuristics.finding import Finding

__all__ = ["MEASURED_SEVERITY", "weigh_outcomes"]

MEASURED_SEVERITY = frozenset({"cost", "latency"})


def weigh_outcomes(findings: Iterable[Finding], outcomes: Sequence[Mapping[str, Any]],
                   thresholds: Thresholds) -> list[Finding]:
    """The findings with severity following how their traces ended."""
    ended_badly = {str(row["trace_id"]) for row in outcomes if row["ended_badly"]}
    total = len(outcomes)
    weighed = []
    for finding in findings:
        bad = len(ended_badly.intersection(finding.affected_trace_ids))
        severity = finding.severity
        wide = total > 0 and finding.affected_traces >= thresholds.failure_high_trace_share * total
        if finding.category not in MEASURED_SEVERITY:
            if severity == "high" and bad == 0 and not wide:
                severity = "medium"
            elif (severity == "medium" and wide and bad >= thresholds.outcome_min_traces
                  and bad >= thresholds.outcome_high_bad_share * finding.affected_traces):
                severity = "high"
        weighed.append(finding if severity == finding.severity else dataclasses.replace(finding, severity=severity))
    return weighed
