"""The one-pass load hands normalize the attribute keys Arrow's parse found (no parse of every span's
attributes to list them): every stored column must stay what the part-by-part path stores, whatever
the attributes' shapes, and the keys must be exactly those of the stored JSON text."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import duckdb
import pytest
from test_arrow_parse import fast_rows

from halo_local.ingest import arrow_parse, load_paths, loader, onepass, scratch
from halo_local.ingest.limits import ATTRIBUTE_VALUE_LIMIT_ENV
from halo_local.ingest.lines import LinePosition, line_batches
from halo_local.store import Store

CAP = 64
_MAPPED_KEYS = ["openinference.span.kind", "llm.model_name", "gen_ai.request.model", "llm.provider",
                "gen_ai.system", "llm.token_count.prompt", "llm.token_count.completion",
                "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens", "session.id", "agent.name",
                "tool.name", "input.value", "output.value", "gen_ai.response.finish_reasons",
                "llm.invocation_parameters", "langfuse.observation.usage_details", "gen_ai.agent.name",
                "llm.cost.total", "llm.input_messages.0.message.content", "other.key"]


def _value(rng: random.Random, line: int) -> dict[str, Any]:
    """An AnyValue of a random shape: every one Arrow writes itself, and those it leaves to the macro."""
    shape = rng.randrange(12)
    if shape == 0:
        return {"intValue": str(rng.randrange(-5, 10_000))}
    if shape == 1:
        return {"intValue": rng.choice(["007", "1e3", " 12", "99999999999999999999"])}
    if shape == 2:
        return {"doubleValue": rng.choice([0.5, 2.5e-05, 3.0, -1.25])}
    if shape == 3:
        return {"boolValue": rng.random() < 0.5}
    if shape == 4:  # in the first lines, strings cut past the cap: the keys of their chunks are left to the SQL
        return {"stringValue": "é" * rng.choice([CAP // 2 + 1, CAP - 1, CAP + 5] if line < 40 else [CAP // 2])}
    if shape == 5:
        return {"stringValue": json.dumps({"input": rng.randrange(99), "input_cached": 3, "output": 7,
                                           "name": "tool_a"})}
    if shape == 6:
        return {"stringValue": json.dumps(["stop", "length"][: rng.randrange(1, 3)])}
    if shape == 7:
        return {"stringValue": rng.choice(["", "LLM", "tool", "AGENT", "chain", "say \"hi\"\n\tthere"])}
    if shape == 8:
        return {"bytesValue": "aGVsbG8="}
    if shape == 9:
        return {}
    return {"stringValue": rng.choice(["gpt-4.1", "openai", "anthropic", "claude-sonnet-4-5", "s-1"])}


def _spans(rng: random.Random, line: int) -> list[dict[str, Any]]:
    spans = []
    for index in range(rng.randrange(1, 8)):
        keys = rng.sample(_MAPPED_KEYS if line < 50 else _MAPPED_KEYS[:-2] + ["other.key"], rng.randrange(0, 7))
        if keys and rng.random() < 0.1:
            keys.append(keys[0])  # a key written twice: the macro keeps the last
        spans.append({
            "traceId": f"{line % 7 + 1:032x}", "spanId": f"{line * 100 + index + 1:016x}",
            "parentSpanId": f"{line * 100 + index:016x}" if index else "", "name": f"step {index}",
            "kind": rng.randrange(6), "startTimeUnixNano": str(1_700_000_000_000_000_000 + line * 1000 + index),
            "endTimeUnixNano": str(1_700_000_000_000_000_500 + line * 1000 + index),
            "attributes": [{"key": key, "value": _value(rng, line)} for key in keys],
        })
    return spans


def _write_file(path: Path, seed: int, lines: int) -> None:
    rng = random.Random(seed)
    with path.open("w") as out:
        for line in range(lines):
            text = json.dumps({"resourceSpans": [{
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": f"svc-{line % 3}"}}]},
                "scopeSpans": [{"scope": {"name": "s"}, "spans": _spans(rng, line)}]}]})
            if line == 120:  # an indexed key's prefix in a value: its part takes the search as before
                text = text.replace('"step 0"', '"see \\"llm.input_messages.0\\""')
            if line % 23 == 5 and line < 100:
                text = text.replace('"step 0"', '"step \\u0001 0"')  # a control escape: the chunk's text is the macro's
            out.write(text + "\n")


def _stored(home: Path) -> list[tuple[Any, ...]]:
    with Store(home).connect() as connection:
        # The secret verdict is not compared: the paths derive different traces after their insert.
        return connection.execute("SELECT * EXCLUDE (loaded_at, secret_free_under_rules) FROM spans"
                                  " ORDER BY trace_id, span_id").fetchall()


def test_one_pass_stores_what_the_part_by_part_path_stores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ATTRIBUTE_VALUE_LIMIT_ENV, str(CAP))
    monkeypatch.setattr(loader, "GROUP_FILE_BYTES", -1)
    data = tmp_path / "mixed.jsonl"
    _write_file(data, 1, 200)
    monkeypatch.setenv(onepass.MIN_BYTES_ENV, str(1 << 40))
    load_paths(Store(tmp_path / "regular"), [data])
    monkeypatch.setenv(onepass.MIN_BYTES_ENV, "0")
    monkeypatch.setattr(onepass, "CHUNK_BYTES", 16384)  # ~28 chunks, some 7 a part
    monkeypatch.setattr(onepass, "CONSUME_EVERY_SPANS", 250)
    regular = _stored(tmp_path / "regular")
    assert len(regular) > 600
    known_parts = []
    consume_part = onepass._consume_part

    indexed_parts = []

    def spy(work: duckdb.DuckDBPyConnection, consume: Any, attribute_keys: set[str] | None, indexed: bool) -> None:
        known_parts.append(attribute_keys is not None)
        indexed_parts.append(indexed)
        consume_part(work, consume, attribute_keys, indexed)

    monkeypatch.setattr(onepass, "_consume_part", spy)
    load_paths(Store(tmp_path / "onepass"), [data])
    assert any(known_parts) and not all(known_parts)
    assert any(indexed_parts) and not all(indexed_parts)
    assert _stored(tmp_path / "onepass") == regular


def test_the_keys_arrow_finds_are_those_of_the_stored_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ATTRIBUTE_VALUE_LIMIT_ENV, str(CAP))
    data = tmp_path / "mixed.jsonl"
    _write_file(data, 4, 60)
    known = unknown = 0
    with duckdb.connect() as connection:
        scratch.install_macros(connection)
        for batch in line_batches(data, LinePosition(0, 0), 2048):
            chunk = arrow_parse.parse_chunk(connection, batch)
            assert chunk is not None
            connection.register("chunk_rows", fast_rows(connection, chunk))
            ((keys,),) = connection.execute(
                "SELECT coalesce(list(DISTINCT key), []) FROM (SELECT unnest(json_keys(attributes)) AS key"
                " FROM chunk_rows WHERE json_type(attributes) = 'OBJECT')").fetchall()
            if chunk.attribute_keys is None:
                unknown += 1
                continue
            known += 1
            assert chunk.attribute_keys == frozenset(keys)
    assert known and unknown  # both kinds of chunk were met
