"""What changed since the last run: stable finding ids, and the comparison of two runs' findings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from halo_local import changes, heuristics
from halo_local.heuristics.finding import masked_subject

AGENT = "0b6a3c36-5b1e-5d2f-9a43-3f5c6f0a1d11"


def _finding(category: str, subject: str, severity: str = "high", **values: Any) -> heuristics.Finding:
    data = {
        "category": category, "severity": severity, "title": f"{category} on {subject}", "subject": subject,
        "agentUuid": AGENT, "metric": "failure_rate", "value": 0.5, "baseline": None, "affectedTraces": 3,
        "affectedSpans": 3, "traceShare": 0.5, "spanShare": 0.2, "impactSeconds": 1.0, "impactUsd": None,
        "failedTraces": 3, "firstSeenAt": "2026-04-24T18:00:00Z", "lastSeenAt": "2026-04-24T18:05:00Z",
        "exampleTraceIds": ["t1"], "exampleSpanIds": ["s1"], "detail": {"signature": "No such file <path>"},
        "fixTarget": {"kind": "agent", "name": "Helper"},
    }
    data.update(values)
    return heuristics.Finding.from_json(data)


def test_a_finding_keeps_its_id_when_its_counts_change() -> None:
    before = _finding("error", "list_files", affectedTraces=3, value=0.5, failedTraces=3)
    after = _finding("error", "list_files", affectedTraces=40, value=0.9, failedTraces=40, severity="medium")
    assert before.key == after.key
    assert _finding("error", "read_file").key != before.key
    assert _finding("error", "list_files", detail={"signature": "timeout"}).key != before.key


def test_instance_names_in_a_subject_are_masked_in_the_id_but_model_versions_are_not() -> None:
    assert masked_subject("job-1714000000") == masked_subject("job-1714003600")
    assert (_finding("latency", "run 0b6a3c36-5b1e-5d2f-9a43-3f5c6f0a1d11").key.split(":")[-1]
            == _finding("latency", "run 7d1e2f40-1c3b-5a6d-8e9f-0a1b2c3d4e5f").key.split(":")[-1])
    assert masked_subject("claude-3-5-sonnet-20241022") != masked_subject("claude-3-5-sonnet-20240620")
    assert masked_subject("chat gpt-4o") == "chat gpt-4o"


def test_compare_sorts_findings_into_new_still_open_and_gone_with_the_trend() -> None:
    fixed = _finding("error", "list_files", value=0.5)
    lasting = _finding("latency", "chat gpt-4o", severity="medium", metric="p95_ms", value=1200.0)
    previous = changes.PreviousRun(run_id="run_aaaaaaaaaaaa", window_start=datetime(2026, 4, 24),
                                   window_end=datetime(2026, 4, 25), findings=(fixed, lasting))
    worse = _finding("latency", "chat gpt-4o", severity="medium", metric="p95_ms", value=1800.0)
    appeared = _finding("error", "read_file", severity="high")

    comparison = changes.compare([appeared, worse], previous)
    result = comparison.to_json()

    assert [item["key"] for item in result["new"]] == [appeared.key]
    assert [(item["key"], item["previousValue"], item["value"], item["trend"]) for item in result["stillOpen"]] == [
        (lasting.key, 1200.0, 1800.0, "rising")]
    assert [item["key"] for item in result["gone"]] == [fixed.key]
    assert result["newHigh"] == 1 and result["previousRunId"] == "run_aaaaaaaaaaaa"
    assert result["previousWindowStart"] == "2026-04-24T00:00:00Z"
    # the document's keys, per kind of change, as `run get --json` has always carried them
    assert list(result) == ["previousRunId", "previousWindowStart", "previousWindowEnd", "new", "stillOpen",
                            "gone", "newHigh"]
    shown = ["key", "title", "severity", "category", "subject", "metric"]
    assert list(result["new"][0]) == [*shown, "value", "affectedTraces"]
    assert list(result["stillOpen"][0]) == [*shown, "value", "affectedTraces", "previousValue",
                                            "previousAffectedTraces", "previousSeverity", "trend"]
    assert list(result["gone"][0]) == [*shown, "previousValue", "previousAffectedTraces"]
    assert changes.summary_line(comparison) == "1 new (1 high), 1 still open, 1 gone since run_aaaaaaaaaaaa"


def test_without_a_previous_run_every_finding_is_new_and_nothing_is_gone() -> None:
    comparison = changes.compare([_finding("error", "list_files")], None)
    result = comparison.to_json()
    assert len(result["new"]) == 1 and result["gone"] == [] and result["previousRunId"] is None
    assert result["previousWindowStart"] is None and result["previousWindowEnd"] is None
    assert changes.summary_line(comparison) == "1 new (first run)"
    assert changes.summary_line(None) == "-"
