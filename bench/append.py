"""Append benchmark: loading again a file an exporter appends to, as a cron schedule does each tick.

Generates OTLP/JSON Lines of --spans spans plus 1% more (bench/ingest.py's generator: ~400 spans a
line), writes the first --spans of them to a file, loads it, appends the rest, and loads it again,
each load a `halo-local traces load` in a fresh process. In the same run, the same reload with the
resume point forgotten (what every reload cost before loads resumed: the whole file parsed, every old
span found a duplicate) is the baseline.

Usage: python bench/append.py [--spans 100000] [--out bench/out]
Not run by CI. Figures go in the README.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _options import path_option, run_with_fire, whole_number  # noqa: E402
from ingest import SPANS_PER_LINE, generate  # noqa: E402  (bench/ is not a package)

APPENDED_SHARE = 0.01
DEFAULT_OUT = Path(__file__).resolve().parent / "out"


def load(home: Path, path: Path) -> tuple[float, dict]:
    """`halo-local traces load --json` in a fresh process: (seconds, its JSON document)."""
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "halo_local", "traces", "load", str(path), "--json"],
                            capture_output=True, text=True, check=True, env={**os.environ, "HALO_HOME": str(home)})
    return time.perf_counter() - started, json.loads(result.stdout)


def forget_resume_points(home: Path) -> None:
    with duckdb.connect(str(home / "halo.duckdb")) as connection:
        connection.execute("UPDATE loaded_files SET complete_bytes = NULL, complete_sha256 = NULL, line_count = NULL")


def main(spans: int = 100_000, out: str | Path = DEFAULT_OUT) -> None:
    spans = whole_number(spans, "--spans")
    total = spans + int(spans * APPENDED_SHARE)
    source, _ = generate(total, path_option(out))
    lines = source.read_bytes().splitlines(keepends=True)
    kept = spans // SPANS_PER_LINE
    with tempfile.TemporaryDirectory() as scratch:
        live = Path(scratch) / "live.jsonl"
        live.write_bytes(b"".join(lines[:kept]))
        first_home = Path(scratch) / "first"
        first_seconds, first = load(first_home, live)
        with live.open("ab") as handle:
            handle.write(b"".join(lines[kept:]))
        whole_home = Path(scratch) / "whole"
        shutil.copytree(first_home, whole_home)
        forget_resume_points(whole_home)
        whole_seconds, whole = load(whole_home, live)
        resumed_seconds, resumed = load(first_home, live)
    appended = resumed["spansNew"]
    print(f"{first['spansNew']:,} spans loaded in {first_seconds:.2f} s; then {appended:,} appended "
          f"({len(lines) - kept} lines) and the file loaded again:")
    print(f"  whole file read again (baseline): {whole_seconds:6.2f} s  ({whole['details'][0]['spansRead']:,} spans"
          f" read, {whole['duplicates']:,} duplicates)")
    print(f"  read from the last load's end   : {resumed_seconds:6.2f} s  ({resumed['details'][0]['spansRead']:,} spans"
          f" read from line {resumed['details'][0]['readFromLine']:,})")
    print(f"  baseline / resumed: {whole_seconds / resumed_seconds:.1f}x")


if __name__ == "__main__":
    run_with_fire(main, __doc__)
