"""The notebook API: stored spans, traces, runs and findings as polars DataFrames."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

import halo_local.notebook as halo
from halo_local.errors import NotFoundError
from halo_local.store import Store
from halo_local.usecases import analyze_paths

HALO_FIXTURE = Path(__file__).parent / "fixtures" / "halo" / "realistic_traces.jsonl"


@pytest.fixture(scope="module")
def analysed_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, dict]:
    """HALO's capture analysed once for the module: the notebook only reads, so every test shares it."""
    store = Store(tmp_path_factory.mktemp("notebook") / "home")
    return store, analyze_paths(store, [HALO_FIXTURE], no_llm=True).to_json()


@pytest.fixture
def store(analysed_store: tuple[Store, dict]) -> Store:
    return analysed_store[0]


@pytest.fixture
def analysed(analysed_store: tuple[Store, dict]) -> dict:
    return analysed_store[1]


def test_spans_are_the_stored_rows_as_a_polars_frame(store: Store, analysed: dict) -> None:
    frame = halo.spans(home=store.home)
    with store.connect() as connection:
        stored = connection.execute("SELECT count(*), count(DISTINCT trace_id) FROM spans").fetchall()[0]
    assert isinstance(frame, pl.DataFrame)
    assert (frame.height, frame["trace_id"].n_unique()) == stored
    assert {"span_type", "tool_name", "duration_ms", "cost_usd", "attributes"} <= set(frame.columns)
    assert frame.schema["start_time"] == pl.Datetime("us")


def test_spans_of_one_agent_by_name_or_uuid(store: Store, analysed: dict) -> None:
    by_uuid = halo.spans(analysed["agentUuid"], home=store.home)
    by_name = halo.spans(analysed["agentName"], home=store.home)
    assert by_uuid.height == by_name.height > 0
    assert by_uuid["agent_uuid"].unique().to_list() == [analysed["agentUuid"]]


def test_an_unknown_agent_is_the_usual_not_found_error(store: Store, analysed: dict) -> None:
    with pytest.raises(NotFoundError):
        halo.spans("no-such-agent", home=store.home)


def test_traces_sum_what_their_spans_hold(store: Store, analysed: dict) -> None:
    spans = halo.spans(home=store.home)
    traces = halo.traces(home=store.home)
    assert traces.height == spans["trace_id"].n_unique()
    assert traces["span_count"].sum() == spans.height
    assert traces["error_count"].sum() == spans.filter(pl.col("status_code") == "error").height
    assert traces["tool_calls"].sum() == spans.filter(pl.col("span_type") == "tool").height


def test_runs_and_findings_match_the_run_document(store: Store, analysed: dict) -> None:
    runs = halo.runs(home=store.home)
    assert runs["run_id"].to_list() == [analysed["runId"]]
    assert runs["finding_count"].to_list() == [len(analysed["findings"])]
    findings = halo.findings(analysed["runId"], home=store.home)
    assert findings["title"].to_list() == [finding["title"] for finding in analysed["findings"]]
    assert findings["rank"].to_list() == list(range(1, len(analysed["findings"]) + 1))
    assert findings["category"].to_list() == [finding["category"] for finding in analysed["findings"]]
