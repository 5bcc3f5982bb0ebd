"""Scaling benchmark: `traces load` and a heuristics-only run at 10k / 100k / 1M spans.

For each size, on the OTLP/JSON Lines that `bench/ingest.py` generates (its generator is imported,
about 400 spans a line), each in a fresh process and in the same run:

- load: `halo-local traces load FILE` into a fresh $HALO_HOME (the generated file with every trace
  naming the same agent, so that one run's window holds every span);
- run: `halo-local run create --no-llm --wait --span-limit SIZE` over a window holding every loaded
  span of the generated agent (the snapshot, every detector, the report), with the time of each of
  its steps from the run's events;
- snapshot step alone: the run's snapshot (halo_local/runs/snapshot.py: the traces ranked, then the
  kept spans redacted and written by DuckDB in one unsorted query) in a fresh process under the
  store's memory limit (768 MB), as the run takes it;
- snapshot as one query: an earlier design, one query redacting the window's kept spans and sorting
  their full rows at once (it spills under the limit at 1M);
- snapshot, no redaction: the run's snapshot with `redact_secrets` and `may_hold_secret` made the
  identity: what it costs without the secret redaction (select, sort, write);
- one query, unsorted: the one query, redacted, without its sort;
- bare copy of the window: the window's rows copied to Parquet as they are (no ranking, redaction or
  sort): the floor of any snapshot that copies the window;
- detector set: `heuristics.analyze` over the snapshot the step wrote, in a fresh process under the
  same limit, as the run's heuristics step runs it (without the report sections);
- detector set-up alone: what every detector reads, built over that snapshot and counted
  (`heuristics.healthy_checks`: the narrow table of spans, the per-trace, per-subject and failure
  tables, attribution, outcomes, claims), no detector run: what the detectors share, built once;
- scan of detector columns: the columns the detectors read from that snapshot, each read once (the
  floor of any pass over them).

Each contender reports wall seconds, CPU seconds (user + system, the process and its waited-for
children), cores used (CPU / wall) and peak RSS. Then the growth from one size to the next is
printed beside the growth in spans: "no faster than linear" means a ratio of time (and of RSS) at
most the ratio of spans.

With `--homes DIR` each size's loaded $HALO_HOME is kept under DIR and reused by the next call (its
load is then not measured): a 1M-span load takes minutes. `--contenders run,chunked` measures only
those (names as in the table: load, run, chunked, one_query, unredacted, unsorted, copy, detectors,
setup, narrow).

With `--unique-texts` the spans are the generator's variant whose texts do not repeat (each LLM prompt and
output and each tool result ends with a letters-only tag unique per span, adding no figure or quoted
phrase): real traces do not repeat their texts, and the default data's few hundred distinct texts let
Parquet's dictionary and the detectors' per-text work see only those. Its files and homes have names of
their own (`otlp-one-agent-unique-SIZE.jsonl`, `home-unique-SIZE`), so stores do not mix.

Usage: python bench/scale.py [--sizes 10000,100000,1000000] [--out bench/out] [--homes DIR]
                             [--contenders run,chunked] [--unique-texts]
Not run by CI. Figures go in the README.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

BENCH = Path(__file__).resolve().parent
REPOSITORY = BENCH.parent
sys.path.insert(0, str(BENCH))

from _options import number_list, path_option, run_with_fire, switch, text_list, usage_error  # noqa: E402
from ingest import generate  # noqa: E402  (bench/ is not a package; only the generator is shared)

AGENT_NAME = re.compile(r'"stringValue":"agent-[0-9]+"')
BARE_SNAPSHOT = """
import sys, time
from pathlib import Path
import duckdb
from halo_local import redact
from halo_local.resources import _sql_environment
from halo_local.runs import snapshot
database, agent, start, end, limit, out, mode = sys.argv[1:]
config = {"memory_limit": "768MB"}
connection = duckdb.connect(database, read_only=True, config=config)
connection.execute(redact.sql_macro() if mode != "unredacted"
                   else "CREATE TEMP MACRO redact_secrets(text) AS text; CREATE TEMP MACRO may_hold_secret(text) AS false")
params = {"agent_uuid": agent, "window_start": start, "window_end": end, "span_limit": int(limit),
          "secret_rules": redact.rules_fingerprint()}
started = time.perf_counter()
if mode in ("chunked", "unredacted"):
    snapshot.write_snapshot(connection, params, Path(out))
else:
    query = _sql_environment().from_string(ONE_QUERY).render()
    if mode == "unsorted":
        query = query.replace("ORDER BY start_ns, trace_id, span_id", "")
    elif mode == "copy":
        query = ("SELECT * EXCLUDE (secret_free_under_rules) FROM spans WHERE agent_uuid = $agent_uuid"
                 " AND start_time >= $window_start AND start_time < $window_end AND $span_limit > 0"
                 " AND $secret_rules IS NOT NULL")
    connection.sql(query, params=params).write_parquet(out)
print("elapsed", time.perf_counter() - started)
"""
SNAPSHOT_MODES = ("chunked", "one_query", "unredacted", "unsorted", "copy")
LABELS = {"load": "traces load", "run": "run --no-llm --wait", "chunked": "snapshot step alone",
          "one_query": "snapshot as one query", "unredacted": "snapshot, no redaction",
          "unsorted": "one query, unsorted", "copy": "bare copy of the window",
          "detectors": "detector set", "setup": "detector set-up alone", "narrow": "scan of detector columns"}
DETECTORS = """
import sys, time
import duckdb
from halo_local.heuristics import analysis
connection = duckdb.connect(config={"memory_limit": "768MB"})
connection.read_parquet(sys.argv[1]).create_view("window_spans")
agent = connection.execute("SELECT agent_uuid FROM window_spans LIMIT 1").fetchall()[0][0]
started = time.perf_counter()
print("findings", len(analysis.analyze(connection, agent_uuid=agent).findings), time.perf_counter() - started)
"""
SET_UP = """
import sys, time
import duckdb
from halo_local.heuristics import analysis
connection = duckdb.connect(config={"memory_limit": "768MB"})
connection.read_parquet(sys.argv[1]).create_view("window_spans")
agent = connection.execute("SELECT agent_uuid FROM window_spans LIMIT 1").fetchall()[0][0]
started = time.perf_counter()
print("checks", len(analysis.healthy_checks(connection, agent_uuid=agent)), time.perf_counter() - started)
"""
# The columns the detectors read from the window (the long texts, ids and figures, and the agent each span
# declares: the snapshot's declared_agent column, else the attributes it is read from), each read once: what
# any pass over them costs at least.
NARROW_SCAN = """
import sys
import duckdb
connection = duckdb.connect(config={"memory_limit": "768MB"})
declared = ("declared_agent" if "declared_agent" in connection.read_parquet(sys.argv[1]).columns
            else "strlen(attributes::VARCHAR)")
print(connection.sql("SELECT count(*), sum(hash(trace_id, span_id, parent_span_id, name, span_type, model, tool_name,"
                     " start_ns, end_ns, duration_ms, status_code, input_tokens, output_tokens, cost_usd,"
                     " strlen(tool_arguments), strlen(tool_result), strlen(output_text), strlen(input_text),"
                     f" {declared})) FROM read_parquet($path)", params={"path": sys.argv[1]}).fetchall())
"""
# The snapshot as one query, before it was written in chunks: the window's kept spans redacted and their
# full rows sorted at once (what spilled under the store's memory limit at 1M spans).
ONE_QUERY = """
{% from "spans/_redaction.sql" import redacted_spans -%}
WITH in_window AS (
    SELECT * FROM spans
    WHERE agent_uuid = $agent_uuid AND start_time >= $window_start AND start_time < $window_end
),
per_trace AS (
    SELECT trace_id, count(*) AS span_count, bool_or(status_code = 'error') AS has_error,
           max(start_ns) AS last_start_ns
    FROM in_window GROUP BY trace_id
),
ranked AS (
    SELECT trace_id, row_number() OVER picked AS trace_rank,
           sum(span_count) OVER (picked ROWS UNBOUNDED PRECEDING) AS running_spans
    FROM per_trace WINDOW picked AS (ORDER BY has_error DESC, last_start_ns DESC, trace_id)
),
kept AS (SELECT trace_id FROM ranked WHERE running_spans <= $span_limit OR trace_rank = 1),
picked AS (SELECT in_window.* FROM in_window JOIN kept USING (trace_id)),
prepared AS (
{{ redacted_spans("picked") }}
)
SELECT * FROM prepared ORDER BY start_ns, trace_id, span_id LIMIT $span_limit
"""


@dataclass(frozen=True)
class Measured:
    """One contender's figures: wall and CPU seconds of its process (and waited-for children), peak RSS."""

    wall: float
    cpu: float
    rss_mib: float
    stdout: str

    @property
    def cores(self) -> float:
        return self.cpu / self.wall if self.wall else 0.0


def _timed(command: list[str], env: dict[str, str]) -> Measured:
    """`command` in a fresh process, measured with wait4 (wall, CPU, peak RSS of that process)."""
    with tempfile.TemporaryFile() as errors:  # a file, so a chatty stderr cannot block the child
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, env=env)
        assert process.stdout is not None
        stdout = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            errors.seek(0)
            raise SystemExit(f"{' '.join(command[2:5])} failed: {errors.read().decode()[-2000:]}")
    return Measured(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, stdout.decode())


def _cli(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "halo_local", *arguments]


def _window(database: Path) -> tuple[str, datetime, datetime, int]:
    """The agent with the most stored spans, and a window holding all of them."""
    with duckdb.connect(str(database), read_only=True) as connection:
        agent, first, last, spans = connection.execute(
            "SELECT agent_uuid, min(start_time), max(start_time), count(*) FROM spans"
            " GROUP BY agent_uuid ORDER BY count(*) DESC LIMIT 1").fetchall()[0]
    return agent, first - timedelta(seconds=1), last + timedelta(seconds=1), spans


def _step_seconds(events: list[dict]) -> dict[str, float]:
    """Seconds per run step, from the step_started/step_finished events."""
    started: dict[str, datetime] = {}
    seconds: dict[str, float] = {}
    for event in events:
        step = (event.get("detail") or {}).get("step")
        if not step:
            continue
        at = datetime.fromisoformat(event["at"].replace("Z", "+00:00"))
        if event["kind"] == "step_started":
            started[step] = at
        elif event["kind"] == "step_finished" and step in started:
            seconds[step] = (at - started[step]).total_seconds()
    return seconds


def variant(unique_texts: bool) -> str:
    """The part of file and home names that keeps the unique-texts data apart from the default."""
    return "unique-" if unique_texts else ""


def one_agent(size: int, out: Path, unique_texts: bool = False) -> Path:
    """The generator's OTLP file with every trace's root naming the same agent, so that one run's window
    holds every span (the generator spreads traces over five agents)."""
    single = out / f"otlp-one-agent-{variant(unique_texts)}{size}.jsonl"
    if not single.exists():
        otlp_path, _ = generate(size, out, unique_texts)
        partial = single.with_suffix(".partial")
        with otlp_path.open(encoding="utf-8") as source, partial.open("w", encoding="utf-8") as target:
            for line in source:
                target.write(AGENT_NAME.sub('"stringValue":"agent-0"', line))
        partial.replace(single)
    return single


def bench_size(size: int, out: Path, scratch: Path, homes: Path | None,
               contenders: frozenset[str], unique_texts: bool = False) -> dict[str, object]:
    otlp_path = one_agent(size, out, unique_texts)
    home = (homes or scratch) / f"home-{variant(unique_texts)}{size}"
    env = {**os.environ, "HALO_HOME": str(home), "PYTHONPATH": str(REPOSITORY), "ANTHROPIC_API_KEY": ""}
    figures: dict[str, object] = {"size": size, "bytes": otlp_path.stat().st_size, "steps": {}}
    if homes is None or not (home / "halo.duckdb").exists():
        figures["load"] = _timed(_cli("traces", "load", str(otlp_path), "--json"), env)
    agent, start, end, figures["spans"] = _window(home / "halo.duckdb")
    if "run" in contenders:
        run = _timed(_cli("run", "create", "--agent-uuid", agent, "--window-start-at", start.isoformat(),
                          "--window-end-at", end.isoformat(), "--span-limit", str(size), "--no-llm", "--wait",
                          "--json"), env)
        run_document = json.loads(run.stdout)
        events = json.loads(_timed(_cli("run", "events", run_document["runId"], "--json"), env).stdout)
        figures.update(run=run, status=run_document["status"], findings=run_document.get("findingCount"),
                       steps=_step_seconds(events.get("events", events) if isinstance(events, dict) else events))
    for mode in SNAPSHOT_MODES:
        if mode in contenders or (mode == "chunked" and contenders & {"detectors", "setup", "narrow"}):
            figures[mode] = _timed([sys.executable, "-c", f"ONE_QUERY = {ONE_QUERY!r}\n" + BARE_SNAPSHOT,
                                    str(home / "halo.duckdb"), agent, start.isoformat(), end.isoformat(), str(size),
                                    str(scratch / f"{mode}-{size}.parquet"), mode], env)
    for name, script in (("detectors", DETECTORS), ("setup", SET_UP), ("narrow", NARROW_SCAN)):
        if name in contenders:
            figures[name] = _timed([sys.executable, "-c", script, str(scratch / f"chunked-{size}.parquet")], env)
    if homes is None:
        shutil.rmtree(home, ignore_errors=True)
    return figures


def main(sizes: str | int | tuple[int, ...] = "10000,100000,1000000", out: str | Path = BENCH / "out",
         homes: str | Path | None = None, contenders: str | tuple[str, ...] = ",".join(LABELS),
         unique_texts: bool = False) -> None:
    size_list = number_list(sizes, "--sizes")
    unique = switch(unique_texts, "--unique-texts")
    out_path = path_option(out)
    homes_path = path_option(homes) if homes is not None else None
    chosen = frozenset(text_list(contenders)) | {"load"}
    if unknown := chosen - set(LABELS):
        raise usage_error(f"--contenders: unknown {', '.join(sorted(unknown))}; choose from {', '.join(LABELS)}")
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        for size in size_list:
            results.append(bench_size(size, out_path, Path(scratch), homes_path, chosen, unique))
            result = results[-1]
            steps: dict[str, float] = result["steps"]  # type: ignore[assignment]
            print(f"{size:>9,} spans ({result['bytes'] / size:.0f} bytes a span), run {result.get('status')}, "  # type: ignore[operator]
                  f"{result.get('findings')} findings; run steps: "
                  + ", ".join(f"{step} {seconds:.2f} s" for step, seconds in steps.items()), flush=True)
    print(f"\n{'spans':>9} | {'contender':<24} {'wall s':>7} {'CPU s':>7} {'cores':>5} {'RSS MiB':>8}")
    for result in results:
        for label, name in LABELS.items():
            if label not in result:
                continue
            figures: Measured = result[label]  # type: ignore[assignment]
            print(f"{result['size']:>9,} | {name:<24} {figures.wall:>7.2f} {figures.cpu:>7.2f} "
                  f"{figures.cores:>5.2f} {figures.rss_mib:>8.0f}")
    print("\ngrowth from one size to the next (linear = the span ratio):")
    for smaller, larger in itertools.pairwise(results):
        spans = larger["size"] / smaller["size"]  # type: ignore[operator]
        for label in ("load", "run"):
            if label not in smaller or label not in larger:
                continue
            small: Measured = smaller[label]  # type: ignore[assignment]
            large: Measured = larger[label]  # type: ignore[assignment]
            print(f"  {smaller['size']:,} -> {larger['size']:,} ({spans:.0f}x spans) {label:<4}: "
                  f"time {large.wall / small.wall:5.1f}x, CPU {large.cpu / small.cpu:5.1f}x, "
                  f"RSS {large.rss_mib / small.rss_mib:5.1f}x")
    print(("texts unique per span (--unique-texts); " if unique else "")
          + f"python {sys.version.split()[0]}, duckdb {duckdb.__version__}, {os.cpu_count()} cpus")


if __name__ == "__main__":
    run_with_fire(main, __doc__)
