"""Detectors on real exported traces, loaded through the ingest path as users load them.

Each set of files is loaded and analysed once per module (`analysed`): several tests assert on the same
analysis, and one costs up to ~6 CPU-s (the framework captures hold 13 agents)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from halo_local.heuristics import Finding, analyze
from halo_local.store import Store

FIXTURES = Path(__file__).parent / "fixtures"
FAILURE_CATEGORIES = {"error", "tool_error", "rate_limit", "timeout", "unknown_tool"}
NEW_CATEGORIES = {"refused_retry", "gave_up", "incapability", "stall", "long_run", "assumed_data", "unsupported_claim"}
REALISTIC = FIXTURES / "halo" / "realistic_traces.jsonl"
OPENAI_AGENTS_DEMO = FIXTURES / "halo" / "openai_agents_demo_traces.jsonl"
ADK_GOLDENS = sorted((FIXTURES / "adk-goldens").glob("*.otlp.json"))

Analysed = Callable[..., dict[str, list[Finding]]]


def findings_per_agent(store: Store) -> dict[str, list[Finding]]:
    """Every agent of `store` analysed over all its stored spans."""
    with store.connect() as connection:
        agents = [row[0] for row in connection.execute(
            "SELECT DISTINCT agent_uuid FROM spans WHERE agent_uuid IS NOT NULL ORDER BY 1").fetchall()]
        return {agent: analyze(connection, agent_uuid=agent, table="spans").findings for agent in agents}


@pytest.fixture(scope="module")
def analysed(loaded_home: Callable[..., Path]) -> Analysed:
    """`findings_per_agent` of a set of files loaded together (conftest's `loaded_home`), once per module."""
    cache: dict[tuple[Path, ...], dict[str, list[Finding]]] = {}

    def findings_of(*paths: Path) -> dict[str, list[Finding]]:
        if paths not in cache:
            cache[paths] = findings_per_agent(Store(loaded_home(*paths)))
        return cache[paths]
    return findings_of


@pytest.fixture(scope="module")
def frameworks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Langfuse framework captures as one OTLP document per line in one file: the same spans, loaded
    in a fraction of the time of 25 files."""
    merged = tmp_path_factory.mktemp("frameworks") / "frameworks.jsonl"
    merged.write_text("".join(
        json.dumps(json.loads(path.read_text(encoding="utf-8"))) + "\n"
        for path in sorted((FIXTURES / "langfuse-frameworks").glob("*.otlp.json"))), encoding="utf-8")
    return merged


def test_halo_realistic_run_groups_the_failing_list_files_calls(analysed: Analysed) -> None:
    per_agent = analysed(REALISTIC)
    findings = [item for items in per_agent.values() for item in items]
    errors = [item for item in findings if item.category == "error"]
    assert len(errors) == 1
    error = errors[0]
    assert error.subject == "list_files"
    assert error.affected_spans == 3 and error.affected_traces == 2
    assert error.failed_traces == 0  # the tool failed, the runs went on ("non-fatal")
    assert set(error.example_span_ids) == {
        "b9dee82875eb44428963dafd", "584e5a114c98427eb073aa1c", "bdb70dc2e7ba4ead95609d0a"}
    assert not [item for item in findings if item.category == "tool_error"]  # not counted twice
    assert not [item for item in findings if item.severity == "high"]


def test_flat_and_otlp_forms_of_one_run_give_the_same_findings(analysed: Analysed) -> None:
    flat = analysed(REALISTIC)
    other = analysed(FIXTURES / "halo" / "realistic_traces.otlp.json")
    assert {agent: [item.to_json() for item in items] for agent, items in flat.items()} == {
        agent: [item.to_json() for item in items] for agent, items in other.items()}


@pytest.mark.parametrize("golden", sorted(path.name.removesuffix(".labels.json")
                                          for path in (FIXTURES / "adk-goldens").glob("*.labels.json")))
def test_adk_goldens_report_the_root_cause_not_its_propagation(analysed: Analysed, golden: str) -> None:
    labels = json.loads((FIXTURES / "adk-goldens" / f"{golden}.labels.json").read_text(encoding="utf-8"))
    root_causes = {item["span_id"] for item in labels["error_spans"] if item["role"] == "root_cause"}
    propagated = {item["span_id"] for item in labels["error_spans"] if item["role"] == "propagated"}
    per_agent = analysed(FIXTURES / "adk-goldens" / f"{golden}.otlp.json")
    failures = [item for items in per_agent.values() for item in items if item.category in FAILURE_CATEGORIES]
    assert len(failures) == len(root_causes) == 1
    failure = failures[0]
    assert set(failure.example_span_ids) == root_causes
    assert failure.failed_traces == 1 and failure.severity == "high"
    assert failure.detail.get("propagatedSpans", len(propagated)) == len(propagated)
    every_example = {span for items in per_agent.values() for item in items for span in item.example_span_ids}
    assert not every_example & propagated


def test_adk_resource_exhausted_is_a_rate_limit(analysed: Analysed) -> None:
    per_agent = analysed(FIXTURES / "adk-goldens" / "inference-error-resource-exhausted-schema-v2.otlp.json")
    categories = {item.category for items in per_agent.values() for item in items}
    assert "rate_limit" in categories and "error" not in categories


def test_healthy_framework_traces_have_no_high_severity_finding(analysed: Analysed, frameworks: Path) -> None:
    per_agent = analysed(frameworks, OPENAI_AGENTS_DEMO)
    assert len(per_agent) >= 10
    high = [(item.category, item.title) for items in per_agent.values() for item in items if item.severity == "high"]
    assert high == []
    failures = [item.title for items in per_agent.values() for item in items if item.category in FAILURE_CATEGORIES]
    assert failures == []


def test_real_fixtures_keep_their_findings(analysed: Analysed, frameworks: Path) -> None:
    """HALO's realistic run keeps its one list_files finding and the ADK goldens their root cause only
    (no finding of the detectors of failure without an error status, test_heuristics_outcomes); the
    framework captures (one agent per service, mixing unrelated runs) and the OpenAI Agents demo give
    none above low. (Moved here from test_heuristics_outcomes to share these analyses.)"""
    halo = analysed(REALISTIC)
    halo_findings = [item for items in halo.values() for item in items]
    assert [item.category for item in halo_findings if item.subject == "list_files"] == ["error"]
    goldens = analysed(*ADK_GOLDENS)
    for per_agent in (halo, goldens):
        assert not [item.title for items in per_agent.values() for item in items if item.category in NEW_CATEGORIES]
    captures = analysed(frameworks, OPENAI_AGENTS_DEMO)
    assert not [item.title for items in captures.values() for item in items
                if item.category in NEW_CATEGORIES and item.severity != "low"]
