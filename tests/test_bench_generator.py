"""bench/ingest.py's generator with unique texts (bench/scale.py --unique-texts): the same spans as the
default, each LLM prompt and output and each tool result ending with a letters-only tag unique per span,
so that no text repeats and no fact (digit or quote) is added; its files have names of their own."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parent.parent
TAG = re.compile(r"^(?P<text>.*) (?P<tag>[a-p]{8})$", re.DOTALL)


def _bench_module(name: str) -> ModuleType:
    sys.path.insert(0, str(REPO / "bench"))
    try:
        spec = importlib.util.spec_from_file_location(f"bench_{name}", REPO / "bench" / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # its dataclasses look their module up
        spec.loader.exec_module(module)
        return module
    finally:  # scale.py puts bench/ on the path too: leave none of it for other tests
        while str(REPO / "bench") in sys.path:
            sys.path.remove(str(REPO / "bench"))


def _spans(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_unique_texts_are_the_default_spans_with_a_letters_tag(tmp_path: Path) -> None:
    ingest = _bench_module("ingest")
    _, default_flat = ingest.generate(1_000, tmp_path)
    unique_otlp, unique_flat = ingest.generate(1_000, tmp_path, unique_texts=True)
    assert (unique_otlp.name, unique_flat.name) == ("otlp-unique-1000.jsonl", "flat-unique-1000.jsonl")
    default, unique = _spans(default_flat), _spans(unique_flat)
    assert len(default) == len(unique) == 1_000
    tagged: dict[str, set[str]] = {"LLM": set(), "TOOL": set()}
    for plain, variant in zip(default, unique, strict=True):
        kind = plain["attributes"]["openinference.span.kind"]
        for key in ("input.value", "output.value"):
            if key not in plain["attributes"]:
                continue
            text = variant["attributes"].pop(key)
            if kind == "TOOL" and key == "input.value":  # tool arguments stay JSON, as they were
                assert text == plain["attributes"].pop(key)
                continue
            match = TAG.match(text)
            assert match is not None and match["text"] == plain["attributes"].pop(key)
            tagged[kind].add(text)
        assert variant == plain
    llm_spans = sum(span["attributes"]["openinference.span.kind"] == "LLM" for span in default)
    assert len(tagged["LLM"]) == 2 * llm_spans  # no prompt or output repeats
    assert len(tagged["TOOL"]) == len(default) - llm_spans - len(default) // 20  # nor a tool result


def test_scale_keeps_the_unique_texts_store_apart(tmp_path: Path) -> None:
    scale = _bench_module("scale")
    single = scale.one_agent(1_000, tmp_path, unique_texts=True)
    assert single.name == "otlp-one-agent-unique-1000.jsonl"
    assert scale.variant(True) == "unique-" and scale.variant(False) == ""
    assert '"stringValue":"agent-1"' not in single.read_text(encoding="utf-8")
