"""A run's findings keep every trace they cover (`affectedTraceIds`) in run_finding_traces, not inside
runs.findings, whose row group every later run's checkpoints rewrite; every reader gets them back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import halo_local.notebook as halo
from halo_local import runs
from halo_local import store as store_module
from halo_local.store import Store
from halo_local.usecases import analyze_paths

HALO_FIXTURE = Path(__file__).parent / "fixtures" / "halo" / "realistic_traces.jsonl"


@pytest.fixture(scope="module")
def analysed_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, dict]:
    store = Store(tmp_path_factory.mktemp("finding-traces") / "home")
    return store, analyze_paths(store, [HALO_FIXTURE], no_llm=True).to_json()


def _lists(findings: list[dict]) -> list[list[str]]:
    return [item["affectedTraceIds"] for item in findings]


def test_the_runs_row_holds_no_trace_list_and_the_table_holds_them_in_order(
        analysed_store: tuple[Store, dict]) -> None:
    store, analysed = analysed_store
    assert sum(map(len, _lists(analysed["findings"]))) > len(analysed["findings"])  # lists worth moving
    with store.connect() as connection:
        stored = json.loads(connection.execute("SELECT findings FROM runs WHERE run_id = $run_id",
                                               {"run_id": analysed["runId"]}).fetchone()[0])
        rows = connection.execute("SELECT finding, list(trace_id ORDER BY position) FROM run_finding_traces"
                                  " WHERE run_id = $run_id GROUP BY finding ORDER BY finding",
                                  {"run_id": analysed["runId"]}).fetchall()
    assert _lists(stored) == [[] for _ in stored]
    assert [ids for _, ids in rows] == [ids for ids in _lists(analysed["findings"]) if ids]


def test_every_reader_gets_the_lists_back(analysed_store: tuple[Store, dict]) -> None:
    store, analysed = analysed_store
    expected = _lists(analysed["findings"])
    assert _lists(runs.get_run(store, analysed["runId"]).to_json()["findings"]) == expected
    documents = halo.findings(analysed["runId"], home=store.home)["document"].to_list()
    assert [json.loads(document)["affectedTraceIds"] for document in documents] == expected


def test_the_migration_moves_the_lists_of_runs_saved_before_it(
        analysed_store: tuple[Store, dict], tmp_path: Path) -> None:
    store, analysed = analysed_store
    copy = Store(tmp_path / "home")
    copy.home.mkdir(mode=0o700)
    copy.db_path.write_bytes(store.db_path.read_bytes())
    with copy.connect() as connection:  # the run as it was saved before migration 11
        connection.execute("DROP TABLE run_finding_traces")
        connection.execute("DELETE FROM schema_migrations WHERE version = 11")
        connection.execute("UPDATE runs SET findings = $findings WHERE run_id = $run_id",
                           {"findings": json.dumps(analysed["findings"]), "run_id": analysed["runId"]})
    store_module._migrated.discard(copy.db_path)
    assert _lists(runs.get_run(copy, analysed["runId"]).to_json()["findings"]) == _lists(analysed["findings"])
    with copy.connect() as connection:
        stored = json.loads(connection.execute("SELECT findings FROM runs").fetchone()[0])
    assert _lists(stored) == [[] for _ in stored]
