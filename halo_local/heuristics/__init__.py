"""The deterministic half of an analysis: SQL detectors over one agent's window of spans.

`registry` lists the detectors (one SQL file and one entry each), `analysis` runs them over a
window, `ranking` orders their findings by impact, `finding` holds what they report.
"""

from halo_local.config import Thresholds, load_thresholds
from halo_local.heuristics.analysis import analyze, find_findings, healthy_checks
from halo_local.heuristics.finding import FINDING_COLUMNS, Analysis, CheckResult, Finding, FixTarget
from halo_local.heuristics.ranking import SEVERITIES, rank_findings
from halo_local.heuristics.registry import CATEGORIES, DETECTORS, Detector, detector, detector_files

__all__ = [
    "CATEGORIES",
    "DETECTORS",
    "FINDING_COLUMNS",
    "SEVERITIES",
    "Analysis",
    "CheckResult",
    "Detector",
    "Finding",
    "FixTarget",
    "Thresholds",
    "analyze",
    "detector",
    "detector_files",
    "find_findings",
    "healthy_checks",
    "load_thresholds",
    "rank_findings",
]
