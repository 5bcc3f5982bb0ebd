"""Loading is bounded: a compressed file may not inflate past its cap, and over-long attribute values are
stored cut with their full length and hash, so that a hostile or careless trace file cannot exhaust the
machine and still loads."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from halo_local.errors import InvalidTraceFileError
from halo_local.ingest import limits, load_paths
from halo_local.store import Store

TRACE_ID = "5b8efff798038103d269b633813fc60c"
START_NS = 1_544_712_660_000_000_000
CAP = limits.DEFAULT_ATTRIBUTE_VALUE_LIMIT


def otlp_line(span_number: int, attributes: list[dict[str, Any]], events: list[dict[str, Any]] | None = None) -> str:
    span = {
        "traceId": TRACE_ID, "spanId": f"{span_number:016x}", "name": "ChatCompletion", "kind": 3,
        "startTimeUnixNano": str(START_NS), "endTimeUnixNano": str(START_NS + 2_000_000_000),
        "attributes": attributes, "events": events or [],
    }
    document = {"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]},
        "scopeSpans": [{"scope": {"name": "lib"}, "spans": [span]}],
    }]}
    return json.dumps(document, ensure_ascii=False) + "\n"


def string_attribute(key: str, value: str) -> dict[str, Any]:
    return {"key": key, "value": {"stringValue": value}}


def stored_rows(store: Store) -> list[dict[str, Any]]:
    with store.connect() as connection:
        result = connection.execute("SELECT * EXCLUDE (loaded_at) FROM spans ORDER BY span_id")
        names = [column[0] for column in result.description]
        return [dict(zip(names, row)) for row in result.fetchall()]


def cli(*args: str, home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "halo_local", *args], capture_output=True, text=True,
                          env={**os.environ, "HALO_HOME": str(home), **env}, timeout=300)


def test_an_over_long_attribute_is_stored_cut_with_its_length_and_hash(store: Store, tmp_path: Path) -> None:
    blob = "é" + "x" * (CAP + 5_000)
    path = tmp_path / "long.jsonl"
    path.write_text(otlp_line(1, [string_attribute("custom.blob", blob), string_attribute("gen_ai.request.model", "gpt-4o")]),
                    encoding="utf-8")
    load_paths(store, [path])
    (row,) = stored_rows(store)
    attributes = json.loads(row["attributes"])
    assert attributes["custom.blob"] == blob[:CAP]
    assert attributes["custom.blob.halo_truncated_length"] == len(blob)
    assert attributes["custom.blob.halo_sha256"] == hashlib.sha256(blob.encode("utf-8")).hexdigest()
    assert attributes["gen_ai.request.model"] == "gpt-4o"


def test_a_cut_changes_no_other_stored_column(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blob = "y" * (CAP + 1)
    path = tmp_path / "long.jsonl"
    path.write_text(otlp_line(1, [string_attribute("custom.blob", blob), string_attribute("gen_ai.request.model", "gpt-4o"),
                                  string_attribute("gen_ai.system", "openai")])
                    + otlp_line(2, [string_attribute("custom.short", "z" * CAP)]), encoding="utf-8")
    cut_store = Store(tmp_path / "cut")
    load_paths(cut_store, [path])
    monkeypatch.setenv(limits.ATTRIBUTE_VALUE_LIMIT_ENV, "1MiB")
    whole_store = Store(tmp_path / "whole")
    load_paths(whole_store, [path])
    cut, whole = stored_rows(cut_store), stored_rows(whole_store)
    assert [{k: v for k, v in row.items() if k != "attributes"} for row in cut] == [
        {k: v for k, v in row.items() if k != "attributes"} for row in whole]
    assert cut[1]["attributes"] == whole[1]["attributes"]  # a value of exactly the cap is not cut
    expected = json.loads(whole[0]["attributes"])
    expected["custom.blob"] = blob[:CAP]
    assert json.loads(cut[0]["attributes"]) == {
        **expected, "custom.blob.halo_truncated_length": CAP + 1,
        "custom.blob.halo_sha256": hashlib.sha256(blob.encode()).hexdigest()}


def test_event_attributes_and_halo_jsonl_values_are_cut_too(store: Store, tmp_path: Path) -> None:
    trace = "x" * (CAP * 2)
    otlp = tmp_path / "events.jsonl"
    otlp.write_text(otlp_line(1, [], events=[{"name": "exception", "timeUnixNano": str(START_NS),
                                              "attributes": [string_attribute("exception.stacktrace", trace)]}]),
                    encoding="utf-8")
    halo = tmp_path / "flat.jsonl"
    halo.write_text(json.dumps({
        "trace_id": "6b8efff798038103d269b633813fc60c", "span_id": "00000000000000aa", "name": "tool",
        "start_time": "2024-01-01T00:00:00Z", "end_time": "2024-01-01T00:00:01Z",
        "attributes": {"input.value": trace, "tool.name": "t"}, "resource": {"attributes": {"service.name": "s"}},
    }) + "\n", encoding="utf-8")
    load_paths(store, [otlp, halo])
    with store.connect() as connection:
        events, flat = connection.execute(
            "SELECT (SELECT events FROM spans WHERE span_id = '0000000000000001'),"
            " (SELECT attributes FROM spans WHERE span_id = '00000000000000aa')").fetchone()
    event_attributes = json.loads(events)[0]["attributes"]
    assert len(event_attributes["exception.stacktrace"]) == CAP
    assert event_attributes["exception.stacktrace.halo_truncated_length"] == len(trace)
    flat_attributes = json.loads(flat)
    assert len(flat_attributes["input.value"]) == CAP
    assert flat_attributes["input.value.halo_sha256"] == hashlib.sha256(trace.encode()).hexdigest()
    assert flat_attributes["tool.name"] == "t"


def test_a_fifty_megabyte_attribute_loads(tmp_path: Path) -> None:
    """It failed with an out-of-memory "this is a bug in halo-local" before values were cut."""
    path = tmp_path / "fifty.jsonl"
    path.write_text(otlp_line(1, [string_attribute("gen_ai.prompt", "p" * (50 << 20))]), encoding="utf-8")
    home = tmp_path / "home"
    loaded = cli("traces", "load", str(path), "--json", home=home)
    assert loaded.returncode == 0, loaded.stderr
    assert json.loads(loaded.stdout)["spansNew"] == 1
    with Store(home).connect() as connection:  # read in process: a second CLI (and its sandbox) costs ~1 CPU-s
        stored = connection.execute(
            "SELECT attributes->>'$.\"gen_ai.prompt.halo_truncated_length\"' FROM spans").fetchall()
    assert stored == [(str(50 << 20),)]


def gzip_of(path: Path, lines: list[str]) -> Path:
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=1) as handle:
        handle.writelines(lines)
    return path


def test_a_gzip_that_inflates_past_the_cap_is_refused_naming_the_file(tmp_path: Path) -> None:
    good = gzip_of(tmp_path / "a_good.jsonl.gz", [otlp_line(1, [])])
    filler = [otlp_line(n, [string_attribute("pad", "0" * 4000)]) for n in range(2, 400)]
    bomb = gzip_of(tmp_path / "b_bomb.jsonl.gz", filler)
    assert bomb.stat().st_size < 64 << 10
    home = tmp_path / "home"
    done = cli("traces", "load", str(good), str(bomb), home=home, HALO_MAX_DECOMPRESSED_BYTES="1MiB")
    assert done.returncode == 1
    assert done.stderr.splitlines()[0] == (
        f"Error: {bomb}: decompresses to more than 1 MiB (HALO_MAX_DECOMPRESSED_BYTES); nothing of it was loaded")
    assert "raise HALO_MAX_DECOMPRESSED_BYTES" in done.stderr
    with Store(home).connect() as connection:
        assert connection.execute("SELECT span_id FROM spans").fetchall() == [("0000000000000001",)]
        assert connection.execute("SELECT count(*) FROM loaded_files WHERE path = ?", [str(bomb)]).fetchone() == (0,)


def test_the_decompression_cap_holds_in_the_reader_and_is_configurable(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = gzip_of(tmp_path / "t.jsonl.gz", [otlp_line(n, []) for n in range(1, 50)])
    inflated = len(gzip.decompress(path.read_bytes()))
    monkeypatch.setenv(limits.DECOMPRESSED_LIMIT_ENV, str(inflated - 1))
    with pytest.raises(InvalidTraceFileError, match="decompresses to more than"):
        load_paths(store, [path])
    monkeypatch.setenv(limits.DECOMPRESSED_LIMIT_ENV, str(inflated))
    assert load_paths(store, [path]).spans_new == 49
    assert limits.DEFAULT_DECOMPRESSED_LIMIT == 1 << 30


def test_a_gzip_whose_size_field_lies_is_stopped_while_it_inflates(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = gzip_of(tmp_path / "liar.jsonl.gz", [otlp_line(n, [string_attribute("pad", "0" * 4000)]) for n in range(1, 400)])
    data = bytearray(path.read_bytes())
    data[-4:] = (100).to_bytes(4, "little")  # claims 100 bytes
    path.write_bytes(bytes(data))
    monkeypatch.setenv(limits.DECOMPRESSED_LIMIT_ENV, "1MiB")
    with pytest.raises(InvalidTraceFileError, match="decompresses to more than 1 MiB"):
        load_paths(store, [path])
    with store.connect() as connection:
        assert connection.execute("SELECT count(*) FROM spans").fetchone() == (0,)


@pytest.mark.parametrize("framing", ["stream", "records"])
def test_a_zstd_file_is_held_to_the_same_decompression_cap(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch, framing: str
) -> None:
    import zstandard

    text = "".join(otlp_line(n, [string_attribute("pad", "0" * 4000)]) for n in range(1, 400)).encode()
    if framing == "stream":
        data = zstandard.ZstdCompressor().compress(text)
    else:  # the Collector file exporter's proto format: length-prefixed records, each zstd-compressed
        record = zstandard.ZstdCompressor().compress(text.replace(b"\n", b" "))
        data = len(record).to_bytes(4, "big") + record
    path = tmp_path / "bomb.zst"
    path.write_bytes(data)
    assert path.stat().st_size < 64 << 10
    monkeypatch.setenv(limits.DECOMPRESSED_LIMIT_ENV, "1MiB")
    with pytest.raises(InvalidTraceFileError, match="decompresses to more than 1 MiB"):
        load_paths(store, [path])
    with store.connect() as connection:
        assert connection.execute("SELECT count(*) FROM spans").fetchone() == (0,)


def test_a_gzip_still_being_written_is_unreadable_not_too_large(tmp_path: Path, store: Store) -> None:
    """Its last 4 bytes are compressed data, not a size field: often a huge number."""
    whole = gzip.compress("".join(otlp_line(n, [string_attribute("pad", f"{n}" * 3000)]) for n in range(1, 300)).encode())
    cut_short = next(whole[:end] for end in range(500, len(whole)) if int.from_bytes(whole[end - 4:end], "little") > 1 << 30)
    path = tmp_path / "writing.jsonl.gz"
    path.write_bytes(cut_short)
    with pytest.raises(InvalidTraceFileError, match="is not a readable gzip file"):
        load_paths(store, [path])
