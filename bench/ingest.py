"""Ingest benchmark: `traces load` against baselines measured in the same run on the same data.

Generates OTLP/JSON Lines deterministically (about 400 spans a line, OpenInference attributes like
real OpenAI Agents SDK exports: agent, LLM and tool spans, prompts, token counts, some errors) and
the flat span-per-line JSONL form of the same spans, then measures, each in a fresh process:

- halo-local `traces load` of the OTLP file into a fresh $HALO_HOME (parse, normalize, store): the
  one-pass path big files take (`halo_local.ingest.onepass`), and `halo-local regular`, the same load
  forced through the part-by-part path every file took before it (HALO_ONEPASS_MIN_BYTES);
- `halo-local SQL parse`: the one-pass load with every chunk parsed by the readers' SQL
  (`json_transform`), as before Arrow's parse (`halo_local.ingest.arrow_parse`) took the chunks it can;
- parse only: the one-pass parse alone over the same file (Arrow's read, then the SQL that builds the
  stored columns), chunk by chunk on one thread, nothing normalized or stored; `parse only SQL` the same
  through the readers' SQL parse: the floor of each parse, which every stored column depends on;
- a plain Python `json.loads` loop over the same file (the floor any Python parser pays);
- Arrow's multi-threaded JSON reader parsing the same file into columns with an explicit OTLP schema,
  nothing normalized or stored: the floor of any parse into columns available here;
- the same reader keeping only each span's traceId: what reading the bytes costs at all, the least any
  load through Arrow or DuckDB can take;
- storing only: the spans halo-local stored, already in memory as Arrow, written into a fresh DuckDB
  file and checkpointed (timed inside the process, reading them excluded): the least any load that
  stores these columns can take on top of reading the file;
- halo-engine's trace index build over the flat JSONL, when `engine` (halo-engine) is importable;
- where halo-local's time goes: the same load once more, each phase timed (wall) where it runs, and
  each part's insert with the database file's size after it;
- many small files: `--small-files N` files of one short trace each (a collector rotating every minute)
  loaded by one `traces load DIR`, beside a `json.loads` loop over the same files.

Every contender reports wall seconds, CPU-seconds (user + system, its children included) and the cores
that makes (CPU / wall), and peak RSS.

Usage: python bench/ingest.py [--sizes 100000,1000000] [--small-files 10000] [--out bench/out]
Install the competitor with `pip install --no-deps halo-engine==0.3.5` (its trace index needs only
pydantic). Figures go in the README.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

SPANS_PER_LINE = 400
SPANS_PER_TRACE = 20
EPOCH_NS = 1_777_000_000_000_000_000
MODELS = ["gpt-4.1-mini", "gpt-4.1", "claude-sonnet-4-5"]
TOOLS = ["list_files", "read_file", "search_code", "run_tests", "write_file"]


def _kv(key: str, value: object) -> dict:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": str(value)}}


def letters_tag(number: int) -> str:
    """`number` written with the letters a-p for hex digits: a tag unique per span that adds no digit or
    quote to a text (so no figure or quoted phrase, no fact for the claims detector)."""
    return "".join(chr(ord("a") + int(digit, 16)) for digit in f"{number:08x}")


def _unique(text: str, tag: str | None) -> str:
    return text if tag is None else f"{text} {tag}"


def _trace_spans(rng: random.Random, trace_index: int, unique_texts: bool = False) -> list[dict]:
    """One agent run: an agent root, then alternating LLM and tool spans. With `unique_texts`, each LLM
    span's prompt and output and each tool span's result end with a letters-only tag unique per span (real
    traces do not repeat their texts; the generator's few hundred distinct texts would let Parquet's
    dictionary and the detectors' per-text work see only those); the random draws stay the same."""
    trace_id = f"{rng.getrandbits(128):032x}"
    root_id = f"{rng.getrandbits(64):016x}"
    start = EPOCH_NS + trace_index * 60_000_000_000
    spans = [{
        "traceId": trace_id, "spanId": root_id, "name": "Agent workflow", "kind": 1,
        "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + 30_000_000_000),
        "attributes": [_kv("openinference.span.kind", "AGENT"), _kv("agent.name", f"agent-{trace_index % 5}"),
                       _kv("session.id", f"session-{trace_index % 97}")],
        "status": {"code": 1},
    }]
    clock = start + 1_000_000
    for step in range(SPANS_PER_TRACE - 1):
        span_id = f"{rng.getrandbits(64):016x}"
        tag = letters_tag(trace_index * SPANS_PER_TRACE + step) if unique_texts else None
        duration = rng.randint(50_000_000, 3_000_000_000)
        if step % 2 == 0:
            model = rng.choice(MODELS)
            attributes = [
                _kv("openinference.span.kind", "LLM"), _kv("llm.provider", "openai" if "gpt" in model else "anthropic"),
                _kv("llm.model_name", model), _kv("llm.token_count.prompt", rng.randint(200, 20_000)),
                _kv("llm.token_count.completion", rng.randint(10, 800)),
                _kv("input.value", _unique("You are a coding agent. " + "context " * rng.randint(20, 80), tag)),
                _kv("output.value", _unique("I will call a tool to inspect the repository. " * rng.randint(1, 4), tag)),
                _kv("llm.response.id", f"resp_{rng.getrandbits(96):024x}"),
            ]
            name, kind, status = "response", 3, {"code": 1}
        else:
            tool = rng.choice(TOOLS)
            failed = rng.random() < 0.03
            attributes = [
                _kv("openinference.span.kind", "TOOL"), _kv("tool.name", tool),
                _kv("input.value", json.dumps({"path": f"src/module_{rng.randint(0, 500)}.py"})),
                _kv("output.value", _unique("Error: file not found" if failed else "ok " * rng.randint(5, 60), tag)),
            ]
            name, kind = f"function.{tool}", 1
            status = {"code": 2, "message": "tool failed"} if failed else {"code": 1}
        spans.append({
            "traceId": trace_id, "spanId": span_id, "parentSpanId": root_id, "name": name, "kind": kind,
            "startTimeUnixNano": str(clock), "endTimeUnixNano": str(clock + duration),
            "attributes": attributes, "status": status,
        })
        clock += duration + 1_000_000
    return spans


def _flat(span: dict, service: str) -> dict:
    """The same span in HALO's flat span-per-line JSONL form."""
    def iso(ns: str) -> str:
        seconds, nanos = divmod(int(ns), 1_000_000_000)
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{nanos:09d}Z"

    attributes = {}
    for item in span["attributes"]:
        value = item["value"]
        attributes[item["key"]] = int(value["intValue"]) if "intValue" in value else next(iter(value.values()))
    return {
        "trace_id": span["traceId"], "span_id": span["spanId"], "parent_span_id": span.get("parentSpanId", ""),
        "trace_state": "", "name": span["name"],
        "kind": {1: "SPAN_KIND_INTERNAL", 3: "SPAN_KIND_CLIENT"}[span["kind"]],
        "start_time": iso(span["startTimeUnixNano"]), "end_time": iso(span["endTimeUnixNano"]),
        "status": {"code": {1: "STATUS_CODE_OK", 2: "STATUS_CODE_ERROR"}[span["status"]["code"]],
                   "message": span["status"].get("message", "")},
        "resource": {"attributes": {"service.name": service}},
        "scope": {"name": "openai-agents-sdk", "version": "0.14.4"},
        "attributes": attributes,
    }


def generate(span_count: int, out_dir: Path, unique_texts: bool = False) -> tuple[Path, Path]:
    """Write (or reuse) the OTLP JSONL and flat JSONL files holding `span_count` spans (with `unique_texts`,
    the variant whose texts do not repeat, under names of its own)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    variant = "unique-" if unique_texts else ""
    otlp_path = out_dir / f"otlp-{variant}{span_count}.jsonl"
    flat_path = out_dir / f"flat-{variant}{span_count}.jsonl"
    if otlp_path.exists() and flat_path.exists():
        return otlp_path, flat_path
    rng = random.Random(20261124)
    service = "bench-agents"
    with otlp_path.open("w") as otlp, flat_path.open("w") as flat:
        trace_index = 0
        written = 0
        while written < span_count:
            batch: list[dict] = []
            while len(batch) < SPANS_PER_LINE and written + len(batch) < span_count:
                batch.extend(_trace_spans(rng, trace_index, unique_texts))
                trace_index += 1
            batch = batch[: span_count - written]
            document = {"resourceSpans": [{
                "resource": {"attributes": [_kv("service.name", service)]},
                "scopeSpans": [{"scope": {"name": "openai-agents-sdk", "version": "0.14.4"}, "spans": batch}],
            }]}
            otlp.write(json.dumps(document, separators=(",", ":")) + "\n")
            for span in batch:
                flat.write(json.dumps(_flat(span, service), separators=(",", ":")) + "\n")
            written += len(batch)
    return otlp_path, flat_path


CHILD_CODE = {
    "halo-local": (
        "import sys; from halo_local.store import Store; from halo_local.ingest import load_paths;"
        "s = load_paths(Store(sys.argv[2]), [sys.argv[1]]); assert s.spans_new > 0, s"
    ),
    "store only": (
        "import sys, time, duckdb\n"
        "rows = duckdb.connect(sys.argv[1], read_only=True).sql('SELECT * FROM spans').to_arrow_table()\n"
        "target = duckdb.connect(sys.argv[2] + '/spans.duckdb', config={'preserve_insertion_order': 'false'})\n"
        "started = time.perf_counter()\n"
        "target.execute('CREATE TABLE spans AS SELECT * FROM rows')\n"
        "target.execute('CHECKPOINT')\n"
        "print('elapsed', time.perf_counter() - started)"
    ),
    "json.loads": (
        "import sys, json\n"
        "with open(sys.argv[1], 'rb') as f:\n"
        "    for line in f: json.loads(line)"
    ),
    "json.loads files": (
        "import sys, json, pathlib\n"
        "for path in sorted(pathlib.Path(sys.argv[1]).iterdir()): json.loads(path.read_bytes())"
    ),
    "halo-local dir": (
        "import sys; from halo_local.store import Store; from halo_local.ingest import load_paths;"
        "s = load_paths(Store(sys.argv[2]), [sys.argv[1]]); assert s.spans_new > 0, s"
    ),
    "halo-local regular": (
        "import os, sys; os.environ['HALO_ONEPASS_MIN_BYTES'] = str(1 << 60)\n"
        "from halo_local.store import Store; from halo_local.ingest import load_paths\n"
        "s = load_paths(Store(sys.argv[2]), [sys.argv[1]]); assert s.spans_new > 0, s"
    ),
    "halo-local phases": (
        f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parent)!r}); import ingest;"
        "ingest.phases_child(sys.argv[1], sys.argv[2])"
    ),
    "parse only": (
        "import sys, duckdb; from pathlib import Path; from halo_local.ingest import onepass, scratch\n"
        "from halo_local.ingest.lines import LinePosition, line_batches\n"
        "parser = duckdb.connect(config={'preserve_insertion_order': 'false'}); scratch.install_macros(parser)\n"
        "rows = 0\n"
        "for batch in line_batches(Path(sys.argv[1]), LinePosition(0, 0), onepass.CHUNK_BYTES):\n"
        "    chunk = onepass._parse_chunk(parser, 'otlp-json', batch)\n"
        "    assert chunk.fast, batch.first_line\n"
        "    rows += chunk.rows.num_rows\n"
        "assert rows > 0"
    ),
    "parse only SQL": (
        "import sys, duckdb; from pathlib import Path; from halo_local.ingest import onepass, scratch\n"
        "from halo_local.ingest.lines import LinePosition, line_batches\n"
        "onepass.ARROW_PARSE = False\n"
        "parser = duckdb.connect(config={'preserve_insertion_order': 'false'}); scratch.install_macros(parser)\n"
        "rows = sum(onepass._parse_chunk(parser, 'otlp-json', batch).rows.num_rows"
        " for batch in line_batches(Path(sys.argv[1]), LinePosition(0, 0), onepass.CHUNK_BYTES))\n"
        "assert rows > 0"
    ),
    "halo-local SQL parse": (
        "import sys; from halo_local.store import Store; from halo_local.ingest import load_paths, onepass\n"
        "onepass.ARROW_PARSE = False\n"
        "s = load_paths(Store(sys.argv[2]), [sys.argv[1]]); assert s.spans_new > 0, s"
    ),
    "arrow parse": (
        "import sys, pyarrow as pa, pyarrow.json as pj\n"
        "text, number = pa.string(), pa.int64()\n"
        "value = pa.struct([('stringValue', text), ('intValue', text), ('boolValue', pa.bool_()),"
        " ('doubleValue', pa.float64())])\n"
        "attributes = pa.list_(pa.struct([('key', text), ('value', value)]))\n"
        "span = pa.struct([('traceId', text), ('spanId', text), ('parentSpanId', text), ('name', text),"
        " ('kind', number), ('startTimeUnixNano', text), ('endTimeUnixNano', text), ('attributes', attributes),"
        " ('status', pa.struct([('code', number), ('message', text)]))])\n"
        "scope_spans = pa.struct([('scope', pa.struct([('name', text), ('version', text)])), ('spans', pa.list_(span))])\n"
        "resource_spans = pa.struct([('resource', pa.struct([('attributes', attributes)])),"
        " ('scopeSpans', pa.list_(scope_spans))])\n"
        "schema = pa.schema([('resourceSpans', pa.list_(resource_spans))])\n"
        "table = pj.read_json(sys.argv[1], read_options=pj.ReadOptions(block_size=16 << 20),"
        " parse_options=pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior='ignore'))\n"
        "assert table.num_rows > 0"
    ),
    "arrow tokenize": (
        "import sys, pyarrow as pa, pyarrow.json as pj\n"
        "span = pa.struct([('traceId', pa.string())])\n"
        "scope_spans = pa.struct([('spans', pa.list_(span))])\n"
        "schema = pa.schema([('resourceSpans', pa.list_(pa.struct([('scopeSpans', pa.list_(scope_spans))])))])\n"
        "table = pj.read_json(sys.argv[1], read_options=pj.ReadOptions(block_size=16 << 20),"
        " parse_options=pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior='ignore'))\n"
        "assert table.num_rows > 0"
    ),
    "halo-engine": (
        "import sys, asyncio; from pathlib import Path;"
        "from engine.traces.trace_index_builder import TraceIndexBuilder;"
        "d = Path(sys.argv[2]); d.mkdir(parents=True, exist_ok=True);"
        "asyncio.run(TraceIndexBuilder.build_index(Path(sys.argv[1]), d / 'i.jsonl', d / 'i.meta.json', 2))"
    ),
}


# Where halo-local's time goes: (label, module, function, thread). Each call is timed (wall) where it runs;
# the parser runs on a second thread, in parallel with the rest. No CPU per phase: DuckDB works on its own
# threads, which no phase's thread clock sees; the whole load's CPU (every thread) is printed instead.
PHASES = [
    ("hash the file (own thread)", "halo_local.ingest.loader", "file_sha256", "hasher"),
    ("parse chunks (parser thread)", "halo_local.ingest.onepass", "_parse_chunk", "parser"),
    ("  of which Arrow's read and checks", "halo_local.ingest.arrow_parse", "_arrow_documents", "parser"),
    ("normalize and insert chunks", "halo_local.ingest.loader", "insert_normalized", "main"),
    ("  of which field extraction", "halo_local.ingest.normalize", "_extract_fields", "main"),
    ("derive agents, usage, cost", "halo_local.ingest.loader", "derive_trace_columns", "main"),
    ("record the file", "halo_local.ingest.loader", "record_file", "main"),
]


def phases_child(data_path: str, home: str) -> None:
    """Load once with every phase of PHASES timed (wall); prints `phase` and `parts` lines."""
    import importlib

    from halo_local.ingest import load_paths
    from halo_local.store import Store

    totals: dict[str, float] = {label: 0.0 for label, *_ in PHASES}
    store = Store(home)
    parts: list[str] = []  # per part normalized and inserted: wall seconds and the database file's size

    def timed(label: str, original: Callable[..., object]) -> Callable[..., object]:
        def wrapper(*args: object, **kwargs: object) -> object:
            wall = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                totals[label] += time.perf_counter() - wall
                if label == "normalize and insert chunks":
                    size = store.db_path.stat().st_size >> 20 if store.db_path.exists() else 0
                    parts.append(f"{time.perf_counter() - wall:.2f}s@{size}MiB")
        return wrapper

    for label, module_name, function, _ in PHASES:
        module = importlib.import_module(module_name)
        setattr(module, function, timed(label, getattr(module, function)))
    started, cpu_started = time.perf_counter(), os.times()
    load_paths(store, [data_path])
    ended = os.times()
    print("parts " + " ".join(parts))
    whole = time.perf_counter() - started
    for label, wall in totals.items():
        print(f"phase {wall:.2f} - {label}")
    timed_main = sum(totals[label] for label, _, _, thread in PHASES if thread == "main" and label[0] != " ")
    print(f"phase {whole - timed_main:.2f} - the rest of the main thread (waiting for the parser, commit, checks)")
    cpu_total = ended.user - cpu_started.user + ended.system - cpu_started.system
    print(f"phase {whole:.2f} {cpu_total:.2f} whole load (CPU of all threads)")


@dataclass(frozen=True)
class Figure:
    """One contender's run: wall seconds, CPU-seconds (user + system, children included), peak RSS."""

    seconds: float
    cpu_seconds: float
    rss_mib: float
    lines: tuple[str, ...] = ()

    @property
    def cores(self) -> float:
        return self.cpu_seconds / self.seconds if self.seconds else 0.0


def measure(label: str, data_path: Path, scratch: Path) -> Figure:
    """Run one contender in a fresh process.

    The seconds are the whole process's, unless the contender prints its own `elapsed SECONDS`."""
    wrapper = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "subprocess.run([sys.executable, '-c', sys.argv[1], *sys.argv[2:]], check=True)\n"
        "elapsed = time.perf_counter() - t\n"
        "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", wrapper, CHILD_CODE[label], str(data_path), str(scratch)],
        capture_output=True, text=True, check=True,
    )
    *own, last = result.stdout.splitlines()
    seconds, cpu_seconds, rss_kib = last.split()
    timed = [line.split()[1] for line in own if line.startswith("elapsed ")]
    return Figure(float(timed[0] if timed else seconds), float(cpu_seconds), int(rss_kib) / 1024, tuple(own))


def engine_available() -> bool:
    probe = subprocess.run([sys.executable, "-c", "import engine.traces.trace_index_builder"], capture_output=True)
    return probe.returncode == 0


def generate_small_files(count: int, out_dir: Path) -> Path:
    """Write (or reuse) `count` OTLP/JSON files of one short trace each (5 spans), as a collector that
    rotates its file every minute leaves them."""
    folder = out_dir / f"small-{count}"
    if folder.is_dir() and len(list(folder.iterdir())) == count:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(20261206)
    for index in range(count):
        spans = _trace_spans(rng, index)[:5]
        document = {"resourceSpans": [{
            "resource": {"attributes": [_kv("service.name", "bench-agents")]},
            "scopeSpans": [{"scope": {"name": "openai-agents-sdk", "version": "0.14.4"}, "spans": spans}],
        }]}
        (folder / f"traces-{index:06d}.json").write_text(json.dumps(document, separators=(",", ":")) + "\n")
    return folder


HEADER = (f"{'spans':>9} {'MB':>7} | {'contender':<17} {'seconds':>8} {'CPU-s':>7} {'cores':>5} {'MB/s':>7}"
          f" {'spans/s':>10} {'RSS MiB':>8} | ratio")


def report(size: int, megabytes: float, figures: dict[str, Figure], ours: str) -> None:
    for label, figure in figures.items():
        ratio = "" if label == ours else f"halo-local takes {figures[ours].seconds / figure.seconds:.2f}x its time"
        print(f"{size:>9} {megabytes:>7.1f} | {label:<17} {figure.seconds:>8.2f} {figure.cpu_seconds:>7.2f}"
              f" {figure.cores:>5.2f} {megabytes / figure.seconds:>7.1f} {size / figure.seconds:>10,.0f}"
              f" {figure.rss_mib:>8.0f} | {ratio}")


def bench_big_file(size: int, out: Path, with_engine: bool, only: set[str]) -> None:
    otlp_path, flat_path = generate(size, out)
    megabytes = otlp_path.stat().st_size / 1e6
    figures: dict[str, Figure] = {}
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(scratch) / "halo-local"
        contenders = [("json.loads", otlp_path), ("arrow parse", otlp_path), ("arrow tokenize", otlp_path),
                      ("parse only", otlp_path), ("parse only SQL", otlp_path), ("halo-local", otlp_path),
                      ("store only", home / "halo.duckdb"), ("halo-local SQL parse", otlp_path),
                      ("halo-local regular", otlp_path)]
        for label, path in contenders + ([("halo-engine", flat_path)] if with_engine else []):
            if only and label not in only:
                continue
            own_scratch = Path(scratch) / label
            own_scratch.mkdir()
            figures[label] = measure(label, path, own_scratch)
        if only:
            report(size, megabytes, figures, "halo-local" if "halo-local" in figures else next(iter(figures)))
            return
        phases = Path(scratch) / "phases"
        phases.mkdir()
        profiled = measure("halo-local phases", otlp_path, phases)
    report(size, megabytes, figures, "halo-local")
    floor = figures["arrow tokenize"].seconds + figures["store only"].seconds
    print(f"  {otlp_path.stat().st_size / size:.0f} bytes a span; reading + storing alone: {floor:.2f} s; targets:"
          f" {figures['json.loads'].seconds * 2.5:.2f} s (2.5x the json.loads loop)"
          + (f", {figures['halo-engine'].seconds:.2f} s (1.0x halo-engine)" if with_engine else ""))
    print("  where halo-local's time goes (one more load, each phase timed where it runs; the parser thread"
          " overlaps the rest):")
    print(f"    {'wall s':>7} {'CPU-s':>7}  phase")
    for line in profiled.lines:
        if line.startswith("phase "):
            _, seconds, cpu_seconds, label = line.split(" ", 3)
            cpu_text = cpu_seconds if cpu_seconds == "-" else f"{float(cpu_seconds):.2f}"
            print(f"    {float(seconds):>7.2f} {cpu_text:>7}  {label}")

    for line in profiled.lines:
        if line.startswith("parts "):
            print("  each part normalized and inserted: wall, and the database file's size after it:")
            print("    " + line.removeprefix("parts "))
    if not with_engine:
        print("  (halo-engine not installed: pip install --no-deps halo-engine==0.3.5)")


def bench_small_files(count: int, out: Path) -> None:
    folder = generate_small_files(count, out)
    megabytes = sum(path.stat().st_size for path in folder.iterdir()) / 1e6
    figures: dict[str, Figure] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for label in ("json.loads files", "halo-local dir"):
            own_scratch = Path(scratch) / label
            own_scratch.mkdir()
            figures[label] = measure(label, folder, own_scratch)
    print(f"  {count:,} files of one trace (5 spans) each, one `traces load DIR`; target: under 30 s")
    report(count * 5, megabytes, figures, "halo-local dir")
    print(f"  {figures['halo-local dir'].seconds / count * 1000:.1f} ms a file")


def main(sizes: str | int | tuple[int, ...] = "100000,1000000", small_files: int = 10_000,
         out: str = str(Path(__file__).parent / "out"), only: str | tuple[str, ...] = "") -> None:
    """Args:
        sizes: spans in the one big file, comma-separated; empty for none
        small_files: small files in one folder; 0 for none
        out: where the generated files go
        only: comma-separated contenders to run alone (ratios to halo-local when it runs, no phases)
    """
    # Imported here: tests load this module by path for its generator, without bench/ on sys.path.
    from _options import number_list, path_option, text_list, whole_number

    size_list = number_list(sizes, "--sizes")
    small_file_count = whole_number(small_files, "--small-files")
    out_path = path_option(out)
    contenders = set(text_list(only))
    with_engine = engine_available()
    print(HEADER)
    for size in size_list:
        bench_big_file(size, out_path, with_engine, contenders)
    if small_file_count:
        bench_small_files(small_file_count, out_path)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus")


if __name__ == "__main__":
    from _options import run_with_fire

    run_with_fire(main, __doc__)
