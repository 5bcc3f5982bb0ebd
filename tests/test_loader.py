"""`traces load` summaries cover the traces each file holds, also when its spans were stored from another file."""

from __future__ import annotations

import functools
import gzip
import shutil
import threading
from datetime import datetime
from pathlib import Path

import pytest

from halo_local import store as store_module
from halo_local.errors import InvalidTraceFileError
from halo_local.ingest import LoadSummary, lines, load_paths, loader, onepass, readers
from halo_local.store import Store

HALO = Path(__file__).parent / "fixtures" / "halo"
JSONL = HALO / "realistic_traces.jsonl"
OTLP = HALO / "realistic_traces.otlp.json"  # the same 58 spans (3 traces, 1 agent) as OTLP/JSON
DEMO = HALO / "openai_agents_demo_traces.jsonl"  # 7 spans of 1 other trace and agent


def reach(summary: LoadSummary) -> tuple[int, int, datetime | None, datetime | None]:
    return summary.traces, summary.agents, summary.first_start, summary.last_end


def held_traces(store: Store) -> dict[str, list[str]]:
    """loaded_file_traces as {path: its trace ids, with any repeats}."""
    with store.connect() as connection:
        rows = connection.execute("SELECT path, trace_id FROM loaded_file_traces ORDER BY path, trace_id").fetchall()
    held: dict[str, list[str]] = {}
    for path, trace_id in rows:
        held.setdefault(path, []).append(trace_id)
    return held


@pytest.mark.parametrize("one_pass", [True, False])
def test_a_copy_is_found_by_the_hash_computed_beside_the_reading_before_anything_is_stored(
        store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, one_pass: bool) -> None:
    """The hash runs on a thread while the reading starts; the copy's reading stops at its first part,
    before any of it is stored, and the store is left as it was (the read-only check of a loaded file)."""
    monkeypatch.setenv(onepass.MIN_BYTES_ENV, "0" if one_pass else str(1 << 40))
    monkeypatch.setattr(onepass, "CHUNK_BYTES", 8192)
    monkeypatch.setattr(onepass, "CONSUME_EVERY_SPANS", 10)
    original = load_paths(store, [OTLP])
    copy = tmp_path / "copy.otlp.json"
    shutil.copyfile(OTLP, copy)
    stored = []
    monkeypatch.setattr(loader, "insert_normalized", lambda *args, **kwargs: stored.append(args))
    copied = load_paths(store, [copy])
    assert [(item.status, item.sha256) for item in copied.files] == [("unchanged", original.files[0].sha256)]
    assert stored == [] and reach(copied) == reach(original)
    assert not [thread for thread in threading.enumerate() if thread.name.startswith("halo-")]


def test_a_file_whose_spans_were_stored_from_another_format_reports_its_traces(store: Store) -> None:
    first = load_paths(store, [JSONL])
    assert (first.spans_new, first.traces, first.agents) == (58, 3, 1)

    other_format = load_paths(store, [OTLP])
    assert [item.status for item in other_format.files] == ["loaded"]
    assert (other_format.spans_new, other_format.duplicates) == (0, 58)
    assert reach(other_format) == reach(first)

    unchanged = load_paths(store, [OTLP])
    assert [item.status for item in unchanged.files] == ["unchanged"]
    assert reach(unchanged) == reach(first)


def test_a_copy_under_another_path_is_recognised_by_its_hash_and_reports_the_originals_traces(
        store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original = load_paths(store, [JSONL])
    copy = tmp_path / "elsewhere" / "traces.jsonl"
    copy.parent.mkdir()
    shutil.copyfile(JSONL, copy)

    copied = load_paths(store, [copy])
    assert [item.status for item in copied.files] == ["unchanged"]
    assert (copied.spans_new, copied.duplicates) == (0, 0)
    assert reach(copied) == reach(original)
    assert held_traces(store)[str(copy.resolve())] == held_traces(store)[str(JSONL.resolve())]

    # recorded under its own path: the next load of the copy costs a stat, no hashing
    monkeypatch.setattr(loader, "file_sha256", lambda path: pytest.fail(f"{path} was hashed"))
    assert reach(load_paths(store, [copy])) == reach(original)


def test_a_glob_with_a_file_of_duplicates_counts_every_trace(store: Store, tmp_path: Path) -> None:
    load_paths(store, [JSONL])
    export = tmp_path / "export"
    export.mkdir()
    shutil.copyfile(OTLP, export / "realistic.otlp.json")
    shutil.copyfile(DEMO, export / "demo.jsonl")

    summary = load_paths(store, [str(export / "*")])
    assert (summary.spans_new, summary.duplicates) == (7, 58)
    assert (summary.traces, summary.agents) == (4, 2)


def test_each_trace_is_recorded_once_per_file_across_the_parts_it_is_read_in(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lines, "BLOCK_BYTES", 8 << 10)
    monkeypatch.setattr(loader, "read_trace_file", functools.partial(readers.read_trace_file, consume_every=1))
    summary = load_paths(store, [JSONL])
    assert (summary.spans_new, summary.traces) == (58, 3)
    with store.connect() as connection:
        stored = [row[0] for row in connection.execute("SELECT DISTINCT trace_id FROM spans ORDER BY 1").fetchall()]
    assert held_traces(store) == {str(JSONL.resolve()): stored}


def test_a_file_that_fails_to_load_records_no_traces(store: Store, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    lines = JSONL.read_text().splitlines()
    bad.write_text("\n".join([*lines[:5], '{"trace_id": "ab", "span_id": ']) + "\n")
    with pytest.raises(InvalidTraceFileError):
        load_paths(store, [bad])
    assert held_traces(store) == {}


def test_the_migration_records_the_traces_of_files_loaded_before_it(store: Store) -> None:
    """A database of schema version 3 (no loaded_file_traces) gets the traces of its fully new files from
    spans.source_file, and forgets the files that had duplicates, so that their next load records theirs."""
    first = load_paths(store, [JSONL])
    load_paths(store, [OTLP])
    with store.connect() as connection:
        connection.execute("DROP TABLE loaded_file_traces")
        connection.execute("DELETE FROM schema_migrations WHERE version = 4")
    store_module._migrated.discard(store.db_path)

    with store.connect() as connection:
        assert connection.execute("SELECT count(*) FROM schema_migrations WHERE version = 4").fetchall() == [(1,)]
        remembered = [row[0] for row in connection.execute("SELECT path FROM loaded_files").fetchall()]
    assert remembered == [str(JSONL.resolve())]
    assert len(held_traces(store)[str(JSONL.resolve())]) == 3

    again = load_paths(store, [JSONL, OTLP])
    assert {item.path.name: item.status for item in again.files} == {
        JSONL.name: "unchanged", OTLP.name: "loaded"}
    assert (again.spans_new, again.duplicates) == (0, 58)
    assert reach(again) == reach(first)
    assert reach(load_paths(store, [OTLP])) == reach(first)


def test_a_strict_load_reads_again_a_file_an_earlier_load_skipped_records_of(store: Store, tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.jsonl"
    lines = JSONL.read_text().splitlines()
    damaged.write_text("\n".join([*lines[:5], '{"trace_id": "ab", "span_id": ']) + "\n")
    copy = tmp_path / "copy.jsonl"
    shutil.copy(damaged, copy)
    assert load_paths(store, [damaged], skip_invalid=True).skipped == 1
    for path in (damaged, copy):
        with pytest.raises(InvalidTraceFileError) as refused:
            load_paths(store, [path])
        assert refused.value.line == 6
    assert [item.status for item in load_paths(store, [damaged, copy], skip_invalid=True).files] == [
        "unchanged", "unchanged"]


def test_a_span_that_ends_before_it_starts_keeps_the_time_range_in_order(store: Store, tmp_path: Path) -> None:
    line = DEMO.read_text(encoding="utf-8").splitlines()[0]
    skewed = tmp_path / "skewed.jsonl"
    skewed.write_text(line.replace('"start_time":"2026-04-28T22:09:22.714980000Z"', '"start_time":"2026-04-28T22:09:30Z"')
                      + "\n", encoding="utf-8")

    summary = load_paths(store, [skewed])

    assert summary.spans_new == 1
    assert (summary.first_start, summary.last_end) == (datetime(2026, 4, 28, 22, 9, 25, 154087),
                                                       datetime(2026, 4, 28, 22, 9, 30))


def test_a_directory_leaves_alone_json_that_is_no_trace_export_but_a_named_one_is_an_error(
        store: Store, tmp_path: Path) -> None:
    export = tmp_path / "export"
    export.mkdir()
    shutil.copyfile(JSONL, export / "traces.jsonl")
    labels = export / "labels.json"
    labels.write_text('{"golden": "x", "error_spans": []}\n')

    summary = load_paths(store, [export])
    assert {item.path.name: item.status for item in summary.files} == {"labels.json": "not_traces",
                                                                        "traces.jsonl": "loaded"}
    assert (summary.spans_new, summary.traces) == (58, 3)
    document = summary.to_json()
    assert (document["filesLoaded"], document["filesNotTraces"]) == (1, 1)
    assert "neither OTLP/JSON" in next(item["reason"] for item in document["details"] if item["status"] == "not_traces")
    assert str(labels.resolve()) not in held_traces(store)

    with pytest.raises(InvalidTraceFileError, match="neither OTLP/JSON"):
        load_paths(store, [labels])


def test_a_damaged_trace_file_in_a_directory_still_stops_the_load(store: Store, tmp_path: Path) -> None:
    export = tmp_path / "export"
    export.mkdir()
    lines = JSONL.read_text().splitlines()
    (export / "cut.jsonl").write_text("\n".join([*lines[:5], '{"trace_id": "ab", "span_id": ']) + "\n")
    with pytest.raises(InvalidTraceFileError, match="cut.jsonl:6"):
        load_paths(store, [export])
    assert held_traces(store) == {}


def test_the_adk_goldens_folder_loads_its_traces_and_leaves_its_labels_alone(store: Store) -> None:
    summary = load_paths(store, [Path(__file__).parent / "fixtures" / "adk-goldens"])
    statuses = sorted((item.path.name.split(".", 1)[1], item.status) for item in summary.files)
    assert statuses == [("labels.json", "not_traces")] * 2 + [("otlp.json", "loaded")] * 2
    assert (summary.spans_new, summary.traces) == (9, 2)


def _held_trace_ids(store: Store, path: Path) -> set[str]:
    """The trace ids recorded for the newest load of `path`."""
    with store.connect() as connection:
        rows = connection.execute(
            "SELECT trace_id FROM loaded_file_traces WHERE path = ? AND sha256 ="
            " (SELECT sha256 FROM loaded_files WHERE path = ? ORDER BY loaded_at DESC LIMIT 1)",
            [str(path.resolve())] * 2).fetchall()
    return {row[0] for row in rows}


def test_a_file_an_exporter_appends_to_is_read_from_where_its_last_load_ended(store: Store, tmp_path: Path) -> None:
    lines = JSONL.read_bytes().splitlines(keepends=True)
    live = tmp_path / "live.jsonl"
    live.write_bytes(b"".join(lines[:20]))
    first = load_paths(store, [live])
    assert (first.spans_new, first.files[0].first_line) == (20, 1)

    with live.open("ab") as handle:
        handle.write(b"".join(lines[20:]))
    grown = load_paths(store, [live])
    assert grown.files[0].first_line == 21
    assert (grown.files[0].spans_read, grown.spans_new, grown.duplicates) == (38, 38, 0)  # only the new lines
    assert reach(grown) == reach(load_paths(store, [JSONL]))  # every trace of the file, old lines' too
    assert grown.to_json()["details"][0]["readFromLine"] == 21
    all_traces = _held_trace_ids(store, live)
    assert len(all_traces) == 3

    # The lines already read changed (a rewrite, not an append): the whole file is read again.
    live.write_bytes(lines[0].replace(b'"name"', b'"name" ') + b"".join(lines[1:]) + lines[0])
    rewritten = load_paths(store, [live])
    assert (rewritten.files[0].first_line, rewritten.files[0].spans_read) == (1, 59)
    assert _held_trace_ids(store, live) == all_traces


def test_a_line_cut_short_by_the_exporter_is_read_again_once_complete(store: Store, tmp_path: Path) -> None:
    lines = JSONL.read_bytes().splitlines(keepends=True)
    live = tmp_path / "live.jsonl"
    live.write_bytes(b"".join(lines[:10]) + lines[10][:40])
    partial = load_paths(store, [live], skip_invalid=True)
    assert (partial.spans_new, partial.skipped) == (10, 1)

    with live.open("ab") as handle:
        handle.write(lines[10][40:] + b"".join(lines[11:30]) + b'{"trace_id": "ab", "span_id": \n')
    with pytest.raises(InvalidTraceFileError) as strict:
        load_paths(store, [live])
    assert strict.value.line == 31  # a strict load reads it all again: the last load left a record out
    resumed = load_paths(store, [live], skip_invalid=True)
    assert resumed.files[0].first_line == 11
    assert (resumed.files[0].spans_read, resumed.spans_new, resumed.skipped) == (20, 20, 1)
    assert resumed.files[0].first_skipped[0].line == 31  # counted from the start, though reading began at 11


def test_a_growing_gzip_file_is_read_whole(store: Store, tmp_path: Path) -> None:
    lines = JSONL.read_bytes().splitlines(keepends=True)
    live = tmp_path / "live.jsonl.gz"
    live.write_bytes(gzip.compress(b"".join(lines[:20])))
    load_paths(store, [live])
    live.write_bytes(gzip.compress(b"".join(lines)))
    grown = load_paths(store, [live])
    assert (grown.files[0].first_line, grown.files[0].spans_read, grown.spans_new) == (1, 58, 38)
