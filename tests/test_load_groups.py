"""A folder of small files loads a group at a time, and still file by file in everything it promises."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from halo_local.errors import InvalidTraceFileError
from halo_local.ingest import groups, load_paths, loader
from halo_local.store import Store

START_NS = 1_777_000_000_000_000_000


def write_trace(folder: Path, name: str, trace: int, spans: list[int], *, lines: int = 1) -> Path:
    """An OTLP/JSON file holding spans `spans` (by number) of trace `trace`, over `lines` JSON lines."""
    def span(number: int) -> dict[str, Any]:
        return {"traceId": f"{trace:032x}", "spanId": f"{number:016x}", "name": f"step {number}", "kind": 1,
                "startTimeUnixNano": str(START_NS + number), "endTimeUnixNano": str(START_NS + number + 5),
                "attributes": [{"key": "openinference.span.kind", "value": {"stringValue": "AGENT" if number == 1 else "TOOL"}},
                               {"key": "agent.name", "value": {"stringValue": f"agent-{trace}"}}]}
    per_line = -(-len(spans) // lines)
    documents = [{"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]},
                                     "scopeSpans": [{"spans": [span(n) for n in spans[i:i + per_line]]}]}]}
                 for i in range(0, len(spans), per_line)]
    path = folder / name
    path.write_text("".join(json.dumps(document) + "\n" for document in documents))
    return path


@pytest.fixture
def grouped(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the groups loaded as groups (a test fails if the feature silently fell back)."""
    sizes: list[int] = []
    load_group = groups.load_group

    def counting(store: Store, files: list[groups.FreshFile]) -> list[groups.GroupedLoad] | None:
        loads = load_group(store, files)
        if loads is not None:
            sizes.append(len(files))
        return loads

    monkeypatch.setattr(loader, "load_group", counting)
    return sizes


def test_small_files_load_as_one_group_each_counted_and_recorded_on_its_own(
        store: Store, tmp_path: Path, grouped: list[int]) -> None:
    folder = tmp_path / "rotated"
    folder.mkdir()
    write_trace(folder, "a.json", 1, [1, 2, 3], lines=2)
    write_trace(folder, "b.json", 2, [1, 2])
    write_trace(folder, "c.json", 1, [3, 4])  # span 3 of trace 1 is a's: a duplicate here

    summary = load_paths(store, [folder])
    assert grouped == [3]
    counts = [(item.path.name, item.status, item.spans_read, item.spans_new, item.duplicates) for item in summary.files]
    assert counts == [("a.json", "loaded", 3, 3, 0), ("b.json", "loaded", 2, 2, 0), ("c.json", "loaded", 2, 1, 1)]
    assert (summary.traces, summary.agents) == (2, 2)
    with store.connect() as connection:
        stored = connection.execute(
            "SELECT trace_id, span_id, source_file, source_line, agent_name FROM spans ORDER BY trace_id, span_id").fetchall()
        recorded = connection.execute(
            "SELECT path, spans_read, spans_new, complete_bytes, line_count FROM loaded_files ORDER BY path").fetchall()
        held = connection.execute("SELECT path, count(*) FROM loaded_file_traces GROUP BY path ORDER BY path").fetchall()
    where = [(Path(file).name, line) for _, _, file, line, _ in stored]
    assert where == [("a.json", 1), ("a.json", 1), ("a.json", 2), ("c.json", 1), ("b.json", 1), ("b.json", 1)]
    assert {agent for *_, agent in stored} == {"agent-1", "agent-2"}
    assert [(Path(path).name, *rest) for path, *rest in recorded] == [
        ("a.json", 3, 3, (folder / "a.json").stat().st_size, 2), ("b.json", 2, 2, (folder / "b.json").stat().st_size, 1),
        ("c.json", 2, 1, (folder / "c.json").stat().st_size, 1)]
    assert [(Path(path).name, count) for path, count in held] == [("a.json", 1), ("b.json", 1), ("c.json", 1)]

    again = load_paths(store, [folder])
    assert [item.status for item in again.files] == ["unchanged"] * 3
    assert grouped == [3]


def test_a_bad_file_among_small_ones_names_itself_and_loads_nothing_of_itself(
        store: Store, tmp_path: Path, grouped: list[int]) -> None:
    folder = tmp_path / "rotated"
    folder.mkdir()
    write_trace(folder, "a.json", 1, [1, 2])
    write_trace(folder, "b.json", 2, [1, 2])
    (folder / "c.json").write_text(write_trace(tmp_path, "c.json", 3, [1]).read_text() + '{"resourceSpans": [\n')
    write_trace(folder, "d.json", 4, [1])

    with pytest.raises(InvalidTraceFileError) as raised:
        load_paths(store, [folder])
    assert str(folder / "c.json") in raised.value.message and raised.value.line == 2
    with store.connect() as connection:
        loaded = connection.execute("SELECT path FROM loaded_files ORDER BY path").fetchall()
        traces = connection.execute("SELECT DISTINCT trace_id FROM spans ORDER BY 1").fetchall()
    assert [Path(path).name for (path,) in loaded] == ["a.json", "b.json"]
    assert traces == [(f"{1:032x}",), (f"{2:032x}",)]
    assert grouped == []  # the group held the bad file: its files were loaded one at a time

    skipping = load_paths(store, [folder], skip_invalid=True)
    assert [(item.path.name, item.status, item.spans_new, item.skipped) for item in skipping.files] == [
        ("a.json", "unchanged", 0, 0), ("b.json", "unchanged", 0, 0), ("c.json", "loaded", 1, 1), ("d.json", "loaded", 1, 0)]
