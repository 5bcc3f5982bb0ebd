"""Every stored column of every span stays what the loader stored before it was made faster.

The references in tests/golden/load_parity/ were computed once by the loader of main at fa6437d (before
the ingest rework of issue 15) from the same inputs: the repo's fixtures and sample traces, each folder
loaded in one `traces load`, and the bench generator's spans in both OTLP/JSON Lines and HALO JSONL.
Regenerate them only on purpose (a deliberate change of stored columns), with HALO_UPDATE_GOLDEN=1, and
say why in the commit message.
"""

from __future__ import annotations

import datetime
import decimal
import gzip
import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from verdict_support import assert_clean_verdicts_hold

from halo_local.ingest import load_paths
from halo_local.store import Store

REPO = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).parent / "golden" / "load_parity"
UPDATE_ENV = "HALO_UPDATE_GOLDEN"
GENERATED_SPANS = 4_000


def _generator() -> Any:
    """bench/ingest.py's deterministic generator (the spans the speed targets are measured on)."""
    spec = importlib.util.spec_from_file_location("bench_ingest", REPO / "bench" / "ingest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _plain(value: Any) -> Any:
    """A stored value as JSON that tells every difference apart (type and exact text)."""
    if isinstance(value, decimal.Decimal):
        return {"decimal": str(value)}
    if isinstance(value, datetime.datetime):
        return {"timestamp": value.isoformat()}
    if isinstance(value, float):
        return {"double": repr(value)}
    return value


def _stored_rows(store: Store, root: Path) -> list[dict[str, Any]]:
    """Every span's columns but loaded_at, in (trace_id, span_id) order, source_file relative to `root`."""
    with store.connect() as connection:
        cursor = connection.execute("SELECT * EXCLUDE (loaded_at) FROM spans ORDER BY trace_id, span_id")
        columns = [description[0] for description in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        row["source_file"] = Path(row["source_file"]).relative_to(root).as_posix()
    return [{key: _plain(value) for key, value in row.items()} for row in rows]


def _compare(name: str, rows: list[dict[str, Any]]) -> None:
    path = GOLDEN / f"{name}.jsonl.gz"
    text = "".join(json.dumps(row, sort_keys=True, ensure_ascii=False) + "\n" for row in rows)
    if os.environ.get(UPDATE_ENV) == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))
    reference_text = gzip.decompress(path.read_bytes()).decode("utf-8")
    if text == reference_text:  # the same rows written the same way: no need to parse them to compare
        return
    expected = [json.loads(line) for line in reference_text.splitlines()]
    assert len(rows) == len(expected), f"{name}: {len(rows)} spans stored, {len(expected)} in {path}"
    for row, reference in zip(rows, expected, strict=True):
        key = (reference["trace_id"], reference["span_id"])
        assert (row["trace_id"], row["span_id"]) == key, f"{name}: span {key} missing"
        differing = {column: (row[column], reference[column]) for column in reference if row[column] != reference[column]}
        assert not differing, f"{name}: span {key} differs (stored, reference): {differing}"


@pytest.mark.parametrize("folder", ["tests/fixtures", "sample_traces"])
def test_fixture_folders_store_the_reference_columns(tmp_path: Path, folder: str) -> None:
    store = Store(tmp_path / "home")
    load_paths(store, [REPO / folder])
    _compare(folder.replace("/", "_"), _stored_rows(store, REPO))
    assert_clean_verdicts_hold(store)  # the real shapes' secret verdicts, as this (part-by-part) path makes them


def test_generated_spans_store_the_reference_columns(tmp_path: Path) -> None:
    otlp_path, flat_path = _generator().generate(GENERATED_SPANS, tmp_path / "data")
    for name, path in (("generated_otlp", otlp_path), ("generated_flat", flat_path)):
        store = Store(tmp_path / name)
        load_paths(store, [path])
        _compare(name, _stored_rows(store, tmp_path))
