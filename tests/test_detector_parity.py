"""The detector set's results are pinned: making the detectors faster must not change what they find.

Every fixture trace file with agent spans is loaded into one store; each agent's spans are analysed
the way a run does (a Parquet snapshot read through a view, the previous window empty) and the whole
result (ranked findings, checks, statistics, trace outcomes) is compared with
tests/golden/detector_results.json. Regenerate it only after an intended change of what detectors
decide, with

    HALO_UPDATE_GOLDENS=1 .venv/bin/python -m pytest tests/test_detector_parity.py

and review its diff like code (a change of execution strategy must leave it untouched).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest

from halo_local import heuristics
from halo_local.resources import _sql_environment
from halo_local.store import Store

FIXTURES = Path(__file__).parent / "fixtures"
GOLDEN = Path(__file__).parent / "golden" / "detector_results.json"
UPDATE_ENV = "HALO_UPDATE_GOLDENS"
# HALO's capture, the Who&When runs (126 failed multi-agent runs), ADK's error goldens and exports of
# frameworks whose spans reach most detectors. Each file costs a load, so the set stays small.
TRACE_FILES = (
    FIXTURES / "halo" / "realistic_traces.jsonl",
    FIXTURES / "who-and-when-ag" / "algorithm-generated.otlp.json",
    *sorted((FIXTURES / "adk-goldens").glob("*.otlp.json")),
    *(FIXTURES / "langfuse-frameworks" / name for name in (
        "beeai-2025-08-01.otlp.json", "crewai-2025-07-11.otlp.json", "langgraph-2025-08-22.otlp.json",
        "openai-agents-2025-09-30.otlp.json", "pydantic-ai-tools-2025-12-04.otlp.json",
        "claude-agent-2025-12-22.otlp.json")),
)


def _plain(value: Any) -> Any:
    """JSON-comparable: what json.dumps(default=str) would write, read back."""
    return json.loads(json.dumps(value, default=str, sort_keys=True))


def _results(store: Store, snapshot_dir: Path, *, declared_column: bool = False) -> dict[str, Any]:
    """Each agent's analysis; `declared_column`: its snapshot has the declared agents as a column, as a
    run's snapshot writes them (else the detectors read them from the attributes)."""
    declared = _sql_environment().from_string(
        '{% from "spans/_declared_agent.sql" import declared_agent %}'
        ', {{ declared_agent("attributes", "agent_name") }} AS declared_agent').render() if declared_column else ""
    with store.connect() as connection:
        agents = [row[0] for row in connection.execute(
            "SELECT DISTINCT agent_uuid FROM spans WHERE agent_uuid IS NOT NULL ORDER BY agent_uuid").fetchall()]
        for agent in agents:
            connection.execute(
                f"COPY (SELECT *{declared} FROM spans WHERE agent_uuid = $agent ORDER BY start_ns, trace_id, span_id)"
                f" TO '{snapshot_dir / (agent + '.parquet')}' (FORMAT parquet)", {"agent": agent})
    results: dict[str, Any] = {}
    for agent in agents:
        with duckdb.connect() as connection:
            connection.read_parquet(str(snapshot_dir / f"{agent}.parquet")).create_view("window_spans")
            analysis = heuristics.analyze(connection, agent_uuid=agent, table="window_spans")
        results[agent] = _plain({
            "findings": [finding.to_json() for finding in analysis.findings],
            "checks": [check.to_json() for check in analysis.checks],
            "stats": analysis.stats,
            "outcomes": analysis.outcomes,
        })
    return results


@pytest.fixture
def fixtures_store(loaded_home: Callable[..., Path]) -> Store:
    """TRACE_FILES loaded once per test process for both tests (~2.2 CPU-s a load); read only: the analyses
    run over Parquet snapshots copied out of it."""
    assert all(path.exists() for path in TRACE_FILES), "the fixture traces moved: update TRACE_FILES"
    return Store(loaded_home(*TRACE_FILES))


def test_detector_results_on_the_fixtures_are_unchanged(fixtures_store: Store, tmp_path: Path) -> None:
    results = _results(fixtures_store, tmp_path)
    assert len(results) >= 5 and sum(len(result["findings"]) for result in results.values()) >= 20

    if os.environ.get(UPDATE_ENV):
        GOLDEN.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    assert GOLDEN.exists(), f"missing golden file {GOLDEN}; create it with {UPDATE_ENV}=1"
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert sorted(results) == sorted(expected)
    for agent, result in results.items():
        assert result == expected[agent], f"detector results changed for agent {agent}"


def test_a_snapshot_with_the_declared_agents_gives_the_same_results(fixtures_store: Store, tmp_path: Path) -> None:
    """A run's snapshot carries the agent each span declares as a column, which the detectors then read
    instead of the attributes: the results must be the pinned ones all the same."""
    results = _results(fixtures_store, tmp_path, declared_column=True)
    with duckdb.connect() as connection:  # the column is there, so the other path was taken
        assert "declared_agent" in connection.read_parquet(str(next(tmp_path.glob("*.parquet")))).columns
    assert results == json.loads(GOLDEN.read_text(encoding="utf-8"))
