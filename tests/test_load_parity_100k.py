"""The bench generator's 100k spans store every column the loader stored before issue 15 made it faster.

tests/test_load_parity.py compares 4,000 generated spans row for row; this compares the 100k set the
issue names, which goes through the paths only big inputs take (the one-pass path's many chunks and
parts, traces spread across parts), by one digest per column: a golden of 100k rows would weigh ~10 MB.
The reference digests in tests/golden/load_parity/generated_100k.json were computed once from stores
loaded by the loader of main at fa6437d (the same commit as the row-for-row references, whose 4,000-span
goldens that loader reproduced byte for byte), over the same generated files. Regenerate them only on
purpose, with HALO_UPDATE_GOLDEN=1, and say why in the commit message.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
from test_load_parity import UPDATE_ENV, _generator

from halo_local.ingest import load_paths
from halo_local.store import Store

GOLDEN = Path(__file__).parent / "golden" / "load_parity" / "generated_100k.json"
SPANS = 100_000
# Columns that did not exist at fa6437d, or that say when, not what, was loaded.
NOT_COMPARED = frozenset({"loaded_at", "secret_free_under_rules"})


def column_digests(database: Path, root: Path) -> dict[str, object]:
    """The number of stored spans, and each stored column's type and an MD5 of its values as text (NULL
    marked apart) in (trace_id, span_id) order; source_file relative to `root` (the stores sit in
    different folders)."""
    with duckdb.connect(str(database), read_only=True) as connection:
        columns = [(name, kind) for name, kind, *_ in connection.execute("DESCRIBE spans").fetchall()
                   if name not in NOT_COMPARED]
        prefix = root.as_posix().rstrip("/") + "/"
        values = {
            name: "replace(source_file, $prefix, '')" if name == "source_file" else f'"{name}"'
            for name, _ in columns
        }
        row = connection.execute(
            "SELECT " + ", ".join(
                f"md5(string_agg(coalesce(CAST({value} AS VARCHAR), chr(0)), chr(30) ORDER BY trace_id, span_id))"
                for value in values.values()) + ", count(*) FROM spans",
            {"prefix": prefix},
        ).fetchall()[0]
    digests = {name: {"type": kind, "md5": digest} for (name, kind), digest in zip(columns, row[:-1], strict=True)}
    return {"rows": row[-1], "columns": digests}


def test_100k_generated_spans_store_the_reference_columns(tmp_path: Path) -> None:
    otlp_path, flat_path = _generator().generate(SPANS, tmp_path / "data")
    stored = {}
    for name, path in (("generated_otlp", otlp_path), ("generated_flat", flat_path)):
        store = Store(tmp_path / name)
        load_paths(store, [path])
        stored[name] = column_digests(store.db_path, tmp_path)
    if os.environ.get(UPDATE_ENV) == "1":
        GOLDEN.write_text(json.dumps(stored, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    reference = json.loads(GOLDEN.read_text(encoding="utf-8"))
    for name, expected in reference.items():
        assert stored[name]["rows"] == expected["rows"], f"{name}: {stored[name]['rows']} spans stored"
        columns = stored[name]["columns"]
        assert isinstance(columns, dict)
        differing = sorted(column for column, digest in expected["columns"].items() if columns.get(column) != digest)
        assert not differing, f"{name}: the 100k spans' columns differ from the reference in {differing}"
