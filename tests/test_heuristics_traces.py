"""Detectors on real exported traces, loaded through the ingest path as users load them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from halo_local.heuristics import Finding, analyze
from halo_local.ingest import load_paths
from halo_local.store import Store

FIXTURES = Path(__file__).parent / "fixtures"
FAILURE_CATEGORIES = {"error", "tool_error", "rate_limit", "timeout", "unknown_tool"}


def findings_per_agent(store: Store, *paths: Path) -> dict[str, list[Finding]]:
    """Load `paths` into `store` and analyze every agent over all its stored spans."""
    load_paths(store, list(paths))
    with store.connect() as connection:
        agents = [row[0] for row in connection.execute(
            "SELECT DISTINCT agent_uuid FROM spans WHERE agent_uuid IS NOT NULL ORDER BY 1").fetchall()]
        return {agent: analyze(connection, agent_uuid=agent, table="spans").findings for agent in agents}


def test_halo_realistic_run_groups_the_failing_list_files_calls(store: Store) -> None:
    per_agent = findings_per_agent(store, FIXTURES / "halo" / "realistic_traces.jsonl")
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


def test_flat_and_otlp_forms_of_one_run_give_the_same_findings(store: Store, tmp_path: Path) -> None:
    flat = findings_per_agent(store, FIXTURES / "halo" / "realistic_traces.jsonl")
    other = findings_per_agent(Store(tmp_path / "other-home"), FIXTURES / "halo" / "realistic_traces.otlp.json")
    assert {agent: [item.to_json() for item in items] for agent, items in flat.items()} == {
        agent: [item.to_json() for item in items] for agent, items in other.items()}


@pytest.mark.parametrize("golden", sorted(path.name.removesuffix(".labels.json")
                                          for path in (FIXTURES / "adk-goldens").glob("*.labels.json")))
def test_adk_goldens_report_the_root_cause_not_its_propagation(store: Store, golden: str) -> None:
    labels = json.loads((FIXTURES / "adk-goldens" / f"{golden}.labels.json").read_text(encoding="utf-8"))
    root_causes = {item["span_id"] for item in labels["error_spans"] if item["role"] == "root_cause"}
    propagated = {item["span_id"] for item in labels["error_spans"] if item["role"] == "propagated"}
    per_agent = findings_per_agent(store, FIXTURES / "adk-goldens" / f"{golden}.otlp.json")
    failures = [item for items in per_agent.values() for item in items if item.category in FAILURE_CATEGORIES]
    assert len(failures) == len(root_causes) == 1
    failure = failures[0]
    assert set(failure.example_span_ids) == root_causes
    assert failure.failed_traces == 1 and failure.severity == "high"
    assert failure.detail.get("propagatedSpans", len(propagated)) == len(propagated)
    every_example = {span for items in per_agent.values() for item in items for span in item.example_span_ids}
    assert not every_example & propagated


def test_adk_resource_exhausted_is_a_rate_limit(store: Store) -> None:
    per_agent = findings_per_agent(
        store, FIXTURES / "adk-goldens" / "inference-error-resource-exhausted-schema-v2.otlp.json")
    categories = {item.category for items in per_agent.values() for item in items}
    assert "rate_limit" in categories and "error" not in categories


def test_healthy_framework_traces_have_no_high_severity_finding(store: Store, tmp_path: Path) -> None:
    # One OTLP document per line in one file: the same spans, loaded in a fraction of the time.
    merged = tmp_path / "frameworks.jsonl"
    merged.write_text("".join(
        json.dumps(json.loads(path.read_text(encoding="utf-8"))) + "\n"
        for path in sorted((FIXTURES / "langfuse-frameworks").glob("*.otlp.json"))), encoding="utf-8")
    per_agent = findings_per_agent(store, merged, FIXTURES / "halo" / "openai_agents_demo_traces.jsonl")
    assert len(per_agent) >= 10
    high = [(item.category, item.title) for items in per_agent.values() for item in items if item.severity == "high"]
    assert high == []
    failures = [item.title for items in per_agent.values() for item in items if item.category in FAILURE_CATEGORIES]
    assert failures == []
