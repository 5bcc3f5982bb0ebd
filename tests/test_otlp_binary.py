"""OTLP protobuf and zstd trace files load exactly like the OTLP/JSON they encode.

The binary files are made at test time from the real export tests/fixtures/halo/realistic_traces.otlp.json
with the OpenTelemetry libraries (protobuf's json_format and the Collector's record framing, see
tests/otlp_support.py), so no binary fixture has to be trusted.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest
import zstandard
from otlp_support import json_documents, length_prefixed, proto_from_json

from halo_local.errors import InvalidTraceFileError
from halo_local.ingest import load_paths
from halo_local.store import Store

OTLP = Path(__file__).parent / "fixtures" / "halo" / "realistic_traces.otlp.json"  # 58 spans, 3 traces
SPANS = 58


def stored_rows(store: Store) -> list[tuple]:
    """Every stored column but where and when the span was loaded from."""
    with store.connect() as connection:
        return connection.execute(
            "SELECT * EXCLUDE (source_file, loaded_at) FROM spans ORDER BY trace_id, span_id").fetchall()


def proto_bodies() -> list[bytes]:
    return [proto_from_json(document).SerializeToString() for document in json_documents(OTLP)]


def binary_forms(folder: Path) -> dict[str, Path]:
    """The same spans in every binary form halo-local reads, named as users name them."""
    bodies = proto_bodies()
    folder.mkdir(parents=True, exist_ok=True)
    forms = {
        "request.pb": bodies[0],
        "request.binpb": bodies[0],
        "collector-proto.pb": length_prefixed(bodies),
        "collector-zstd.pb.zst": length_prefixed(bodies, zstd=True),
        "collector-json-zstd.json.zst": length_prefixed([OTLP.read_bytes().strip()], zstd=True),
        "whole-file.jsonl.zst": zstandard.ZstdCompressor().compress(OTLP.read_bytes()),
        "whole-proto.pb.zst": zstandard.ZstdCompressor().compress(bodies[0]),
        "gzipped-proto.pb.gz": gzip.compress(bodies[0]),
    }
    paths = {}
    for name, data in forms.items():
        (folder / name).write_bytes(data)
        paths[name] = folder / name
    return paths


def test_every_binary_form_stores_rows_identical_to_the_json_export(tmp_path: Path) -> None:
    reference = Store(tmp_path / "json-home")
    assert load_paths(reference, [OTLP]).spans_new == SPANS
    expected = stored_rows(reference)
    for name, path in binary_forms(tmp_path / "files").items():
        store = Store(tmp_path / f"home-{name}")
        summary = load_paths(store, [path])
        assert (summary.spans_new, summary.traces, summary.agents) == (SPANS, 3, 1), name
        assert stored_rows(store) == expected, name


def test_formats_are_told_by_content_not_by_name(tmp_path: Path, store: Store) -> None:
    disguised = tmp_path / "export.json"
    disguised.write_bytes(length_prefixed(proto_bodies(), zstd=True))
    assert load_paths(store, [disguised]).spans_new == SPANS


def test_a_folder_mixing_every_format_loads_each_span_once(tmp_path: Path, store: Store) -> None:
    folder = tmp_path / "mixed"
    binary_forms(folder)
    shutil.copyfile(OTLP, folder / "plain.otlp.json")
    shutil.copyfile(OTLP.parent / "realistic_traces.jsonl", folder / "halo.jsonl")
    (folder / "notes.txt").write_text("not a trace file")

    summary = load_paths(store, [folder])
    assert len(summary.files) == 10
    statuses = sorted(item.status for item in summary.files)
    assert statuses == ["loaded"] * 9 + ["unchanged"]  # request.binpb is a copy of request.pb
    assert summary.spans_new == SPANS
    assert summary.duplicates == 8 * SPANS
    with store.connect() as connection:
        assert connection.execute("SELECT count(*), count(DISTINCT (trace_id, span_id)) FROM spans").fetchall() == [
            (SPANS, SPANS)]


def test_a_protobuf_file_that_is_no_trace_export_is_left_alone_in_a_folder(tmp_path: Path, store: Store) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "saved_model.pb").write_bytes(b"\x0a\xff\xff\xff\xff\x0f\x00\x01graph")
    (folder / "request.pb").write_bytes(proto_bodies()[0])
    summary = load_paths(store, [folder])
    assert sorted(item.status for item in summary.files) == ["loaded", "not_traces"]
    assert summary.spans_new == SPANS


@pytest.mark.parametrize(("content", "expected"), [
    (length_prefixed(proto_bodies())[:-10], "is OTLP length-prefixed records (Collector file exporter) cut short"),
    (b"\x28\xb5\x2f\xfd" + b"\xff" * 20, "is zstd but cannot be decompressed"),
    (b"\x0a\xff\xff\xff\xff\x0f\x00\x01garbage", "is OTLP protobuf that cannot be decoded"),
    (length_prefixed([b"\x0a\x05\x00\x00"], zstd=True), "is a zstd OTLP record that cannot be decoded"),
])
def test_an_unreadable_binary_file_names_itself_and_what_it_is(
        tmp_path: Path, store: Store, content: bytes, expected: str) -> None:
    path = tmp_path / "broken.pb"
    path.write_bytes(content)
    with pytest.raises(InvalidTraceFileError) as raised:
        load_paths(store, [path])
    assert str(path) in raised.value.message
    assert expected in raised.value.message
