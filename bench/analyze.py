"""Heuristics benchmark: every detector over 1M stored spans of one agent, against a full scan.

Generates the spans deterministically in DuckDB SQL into a file database (a realistic mix: agent
roots, model calls with growing context, tool calls with arguments and results, failing tools,
tool errors reported as data, rate limits, truncations, loops, an unpriced model), then measures,
each in a fresh process and in the same run:

- baseline: one full scan, `SELECT count(*), sum(duration_ms) FROM <source> WHERE agent_uuid = ?`;
- text scan: the same plus the lengths of the text columns the detectors read (tool arguments and
  results, outputs, error messages): a floor for anything that looks at the content;
- row scan: every column of every span read once (`sum(hash(COLUMNS(*)))`), raw attributes included:
  what one full pass over the stored spans costs;
- trace grouping: the spans counted and summed per trace (`GROUP BY trace_id`): the least any
  detector that judges whole traces (loops, steps, cost per trace) must pay, once;
- detectors: `halo_local.heuristics.analyze()` (all detectors, checks and stats) over the same spans.

And three parts of the work the issue's detectors cannot skip, each alone, as plain DuckDB queries
over the stored columns (no flags, no text, nothing reported): a floor for the detector set.

- latency statistics: per subject, p50/p95/p99 and the median absolute deviation of the durations
  (what the latency detector reports and its outlier baseline);
- parent links: every span joined to its parent (root causes, orphans, clock skew);
- turn order: each trace's model calls in order, with the previous call's input tokens (context growth).

Both run over the stored table and over a Parquet snapshot of it (how a run reads them). Seconds
are the query time inside the process (with the CPU seconds it spent), the best of --repeat fresh
processes (the machine is shared); peak RSS is the whole process's, the largest seen.

The fixed cost (`--fixed`): what every analysed window pays whatever its size, over a tiny window
(--spans 100: 5 traces), in this process: the first pass on a fresh connection (which creates the
macros), passes repeated on one connection, passes on fresh connections, each in CPU-seconds (user +
system) beside wall, and the statements that cost most (CPU-ms a pass, over the repeated passes).

Per statement (`--statements FILE`): one analysis over a Parquet snapshot (a run's window, e.g. the one
`bench/scale.py` writes), on a fresh connection under the store's memory limit (768 MB), as a run's
heuristics step takes it; every statement `_execute` runs (set-up tables, guards, detectors) and
every shared query file, with its wall and CPU seconds, costliest first, the best of --repeat passes.

With `--unique-texts` every tool result and model output ends with a letters-only tag unique per span (its
span id with the digits written as the letters g-p: no figure or quote added), in a database of its own
(`analyze-unique-SPANS.duckdb`): real traces do not repeat their texts, and the generated few hundred
distinct texts let Parquet's dictionary and the per-text work see only those.

Usage: python bench/analyze.py [--spans 1000000] [--out bench/out] [--threads N] [--repeat 3] [--fixed]
                               [--statements SNAPSHOT.parquet] [--unique-texts]
Not run by CI. Figures go in the README.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from statistics import median

import duckdb
from _options import choice, path_option, run_with_fire, switch, whole_number

AGENT = "bench-agent"
SPANS_PER_TRACE = 20
REPOSITORY = Path(__file__).resolve().parent.parent
DEFAULT_OUT = Path(__file__).resolve().parent / "out"
SCHEMA = REPOSITORY / "sql" / "schema" / "001_spans.sql"

# One row per span: span 0 of each trace is the agent root, odd steps are model calls, even steps
# tool calls. Every "random" choice is a hash of the span number, so the data is the same each run.
GENERATE = """
INSERT INTO spans (trace_id, span_id, parent_span_id, name, kind, start_ns, end_ns, start_time, end_time,
                   duration_ms, status_code, status_message, service_name, agent_name, agent_uuid, span_type,
                   provider, model, input_tokens, output_tokens, counts_usage, cost_usd, cost_source,
                   tool_name, tool_arguments, tool_result, declared_tools, finish_reason, error_type,
                   error_message, output_text)
WITH numbered AS (
    SELECT
        i,
        i // $per_trace                                       AS trace_no,
        i % $per_trace                                        AS step,
        CAST(hash(i) % 10000 AS BIGINT)                       AS roll,
        CAST(hash(i // $per_trace) % 10 AS BIGINT)            AS trace_roll
    FROM range($spans) AS r(i)
),
shaped AS (
    SELECT
        *,
        CASE WHEN step = 0 THEN 'agent' WHEN step % 2 = 1 THEN 'llm' ELSE 'tool' END AS span_type,
        CASE WHEN trace_roll < 6 THEN 'gpt-4.1-mini' WHEN trace_roll < 9 THEN 'gpt-4.1' ELSE 'house-model' END AS model,
        (['list_files', 'read_file', 'search_code', 'run_tests', 'write_file'])[1 + roll % 5] AS tool,
        1777000000000000000 + trace_no * 60000000000 + step * 1500000000 AS start_ns,
        CASE WHEN step = 0 THEN 30000 + roll
             WHEN step % 2 = 1 THEN 500 + roll % 2500 + CASE WHEN roll = 7 THEN 40000 ELSE 0 END
             ELSE 50 + roll % 450 + CASE WHEN roll = 11 THEN 20000 ELSE 0 END END AS duration_ms,
        1000 + (step // 2) * 800 + roll % 500                 AS input_tokens,
        50 + roll % 400                                        AS output_tokens
    FROM numbered
)
SELECT
    printf('%032x', hash(trace_no))                                        AS trace_id,
    printf('%016x', hash(i, 'span'))                                       AS span_id,
    CASE WHEN step > 0 THEN printf('%016x', hash(trace_no * $per_trace, 'span')) END AS parent_span_id,
    CASE span_type WHEN 'agent' THEN 'invoke_agent coder' WHEN 'llm' THEN 'chat ' || model
                   ELSE 'execute_tool ' || CASE WHEN roll = 13 THEN 'delete_repo' ELSE tool END END AS name,
    CASE WHEN span_type = 'llm' THEN 'client' ELSE 'internal' END           AS kind,
    start_ns,
    start_ns + CAST(duration_ms * 1000000 AS BIGINT)                       AS end_ns,
    make_timestamp(start_ns // 1000)                                       AS start_time,
    make_timestamp((start_ns + CAST(duration_ms * 1000000 AS BIGINT)) // 1000) AS end_time,
    duration_ms,
    CASE WHEN span_type = 'tool' AND roll % 100 < 3 THEN 'error'
         WHEN span_type = 'llm' AND roll % 200 = 1 THEN 'error'
         ELSE 'ok' END                                                     AS status_code,
    CASE WHEN span_type = 'tool' AND roll % 100 < 3 THEN 'tool failed'
         WHEN span_type = 'llm' AND roll % 200 = 1 THEN '429' END          AS status_message,
    'bench-service', 'coder', $agent, span_type,
    CASE WHEN span_type = 'llm' THEN 'openai' END                          AS provider,
    CASE WHEN span_type = 'llm' THEN model END                             AS model,
    CASE WHEN span_type = 'llm' THEN input_tokens END                      AS input_tokens,
    CASE WHEN span_type = 'llm' THEN output_tokens END                     AS output_tokens,
    TRUE                                                                    AS counts_usage,
    CASE WHEN span_type = 'llm' AND model <> 'house-model'
         THEN CAST((input_tokens * CASE model WHEN 'gpt-4.1' THEN 2.0 ELSE 0.4 END
                   + output_tokens * CASE model WHEN 'gpt-4.1' THEN 8.0 ELSE 1.6 END) / 1e6 AS DECIMAL(18, 10)) END AS cost_usd,
    CASE WHEN span_type = 'llm' THEN CASE WHEN model = 'house-model' THEN 'unpriced' ELSE 'computed' END END AS cost_source,
    CASE WHEN span_type = 'tool' THEN CASE WHEN roll = 13 THEN 'delete_repo' ELSE tool END END AS tool_name,
    CASE WHEN span_type = 'tool' THEN
        CASE WHEN trace_no % 50 = 0 THEN '{"path": "src/main.py"}'
             ELSE printf('{"path": "src/module_%d.py"}', roll % 500) END END AS tool_arguments,
    CASE WHEN span_type = 'tool' THEN
        CASE WHEN roll % 100 < 3 THEN printf('FileNotFoundError: [Errno 2] No such file: ''src/module_%d.py''', roll % 500)
             WHEN roll % 100 < 5 THEN printf('Error: permission denied for /repo/src/module_%d.py', roll % 500)
             ELSE repeat('ok ', 5 + roll % 60) END END                     AS tool_result,
    CASE WHEN span_type = 'llm' THEN ['list_files', 'read_file', 'search_code', 'run_tests', 'write_file'] END AS declared_tools,
    CASE WHEN span_type = 'llm' THEN
        CASE WHEN roll % 100 = 5 THEN 'length' WHEN step = $per_trace - 1 THEN 'stop' ELSE 'tool_calls' END END AS finish_reason,
    CASE WHEN span_type = 'tool' AND roll % 100 < 3 THEN 'FileNotFoundError'
         WHEN span_type = 'llm' AND roll % 200 = 1 THEN 'RateLimitError' END AS error_type,
    CASE WHEN span_type = 'tool' AND roll % 100 < 3 THEN printf('[Errno 2] No such file: ''src/module_%d.py''', roll % 500)
         WHEN span_type = 'llm' AND roll % 200 = 1 THEN 'Error code: 429 - rate limit reached for requests' END AS error_message,
    CASE WHEN span_type = 'llm' THEN
        CASE WHEN step = $per_trace - 1 THEN printf('Done: the change for task %d is in place.', trace_no)
             ELSE printf('I will call %s to inspect the repository (step %d).', tool, step) END END AS output_text
FROM shaped
"""
UNIQUE_TEXTS = """
UPDATE spans SET tool_result = tool_result || ' ' || translate(span_id, '0123456789', 'ghijklmnop'),
                 output_text = output_text || ' ' || translate(span_id, '0123456789', 'ghijklmnop')
"""


# The floor: work the detectors cannot skip, each measured alone (the generated spans are named after
# their subject: `chat <model>`, `execute_tool <tool>`).
FLOORS = {
    # The statistics are summed, so the optimizer cannot drop them.
    "latencyfloor": "SELECT count(*), sum(list_sum(percentiles)), sum(deviation) FROM (SELECT name,"
                    " quantile_cont(duration_ms, [0.5, 0.95, 0.99]) AS percentiles, mad(duration_ms) AS deviation"
                    " FROM window_spans WHERE agent_uuid = ? GROUP BY name)",
    "parentfloor": "SELECT count(*) FROM window_spans AS child LEFT JOIN window_spans AS parent"
                   " ON parent.trace_id = child.trace_id AND parent.span_id = child.parent_span_id"
                   " WHERE child.agent_uuid = $1 AND parent.span_id IS NULL",
    "turnfloor": "SELECT count(*) FROM (SELECT input_tokens - lag(input_tokens) OVER (PARTITION BY trace_id"
                 " ORDER BY start_ns) AS growth FROM window_spans WHERE agent_uuid = ? AND span_type = 'llm')"
                 " WHERE growth > 0",
}
FLOOR_LABELS = {"latencyfloor": "latency statistics", "parentfloor": "parent links", "turnfloor": "turn order"}


def generate(path: Path, spans: int, unique_texts: bool = False) -> None:
    """Write `spans` spans of one agent into a fresh database at `path` (and a Parquet copy)."""
    if path.exists():
        path.unlink()
    started = time.perf_counter()
    with duckdb.connect(str(path)) as connection:
        connection.execute(SCHEMA.read_text(encoding="utf-8"))
        connection.execute(GENERATE, {"spans": spans, "per_trace": SPANS_PER_TRACE, "agent": AGENT})
        if unique_texts:
            connection.execute(UNIQUE_TEXTS)
        connection.table("spans").write_parquet(str(path.with_suffix(".parquet")))
    print(f"generated {spans:,} spans in {time.perf_counter() - started:.1f}s -> {path}", flush=True)


def _open(path: Path, source: str, threads: int | None) -> duckdb.DuckDBPyConnection:
    if source == "table":
        connection = duckdb.connect(str(path), read_only=True)
        connection.execute("CREATE TEMP VIEW window_spans AS SELECT * FROM spans")
    else:
        connection = duckdb.connect()
        connection.read_parquet(str(path.with_suffix(".parquet"))).create_view("window_spans")
    if threads:
        connection.execute(f"SET threads = {int(threads)}")
    return connection


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def phase_result(path: Path, source: str, which: str, threads: int | None) -> dict:
    """One measurement, run in a child process so that its peak RSS is its own."""
    from halo_local.heuristics import analyze

    connection = _open(path, source, threads)
    started = time.perf_counter()
    cpu_started = _cpu_seconds()
    if which == "baseline":
        result = connection.execute(
            "SELECT count(*), sum(duration_ms) FROM window_spans WHERE agent_uuid = ?", [AGENT]
        ).fetchone()
        summary = {"spans": result[0]}
    elif which == "textscan":
        result = connection.execute(
            "SELECT count(*), sum(duration_ms), sum(length(tool_arguments)), sum(length(tool_result)),"
            " sum(length(output_text)), sum(length(error_message)) FROM window_spans WHERE agent_uuid = ?",
            [AGENT],
        ).fetchone()
        summary = {"spans": result[0]}
    elif which == "tracegroup":
        result = connection.execute(
            "SELECT count(*), sum(spans) FROM (SELECT trace_id, count(*) AS spans, sum(duration_ms)"
            " FROM window_spans WHERE agent_uuid = ? GROUP BY trace_id)", [AGENT]
        ).fetchall()[0]
        summary = {"spans": result[1]}
    elif which == "rowscan":
        result = connection.execute(
            "SELECT count(*), sum(hash(COLUMNS(*))) FROM window_spans WHERE agent_uuid = ?", [AGENT]
        ).fetchone()
        summary = {"spans": result[0]}
    elif which in FLOORS:
        result = connection.execute(FLOORS[which], [AGENT]).fetchall()[0]
        summary = {"rows": result[0]}
    else:
        analysis = analyze(connection, agent_uuid=AGENT, table="window_spans")
        summary = {
            "findings": len(analysis.findings),
            "byCategory": dict(Counter(finding.category for finding in analysis.findings)),
        }
    seconds = time.perf_counter() - started
    cpu_seconds = _cpu_seconds() - cpu_started
    connection.close()
    return {"seconds": seconds, "cpuSeconds": cpu_seconds, **summary}


def _measure(path: Path, source: str, which: str, threads: int | None) -> dict:
    command = [sys.executable, __file__, "--phase", which, "--source", source, "--db", str(path)]
    if threads:
        command += ["--threads", str(threads)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(REPOSITORY)})
    output = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit(f"{which} on {source} failed (status {status})")
    result = json.loads(output.strip().splitlines()[-1])
    result["peak_rss_mb"] = usage.ru_maxrss / 1024
    return result


def _best_of(repeat: int, path: Path, source: str, which: str, threads: int | None) -> dict:
    runs = [_measure(path, source, which, threads) for _ in range(max(repeat, 1))]
    best = min(runs, key=lambda run: run["seconds"])
    return {**best, "peak_rss_mb": max(run["peak_rss_mb"] for run in runs)}


def _timed_pass(path: Path) -> tuple[float, float]:
    """One analysis on a fresh connection over the stored spans: (CPU-s, wall s)."""
    from halo_local.heuristics import analyze

    connection = _open(path, "table", None)
    started, cpu_started = time.perf_counter(), _cpu_seconds()
    analyze(connection, agent_uuid=AGENT, table="window_spans")
    result = (_cpu_seconds() - cpu_started, time.perf_counter() - started)
    connection.close()
    return result


def fixed_cost(path: Path, passes: int) -> None:
    """The fixed cost of an analysis (see the module docstring), printed."""
    from halo_local.heuristics import analysis, analyze

    first = _timed_pass(path)
    fresh = [_timed_pass(path) for _ in range(passes)]
    connection = _open(path, "table", None)
    analyze(connection, agent_uuid=AGENT, table="window_spans")
    statements: defaultdict[str, float] = defaultdict(float)
    execute = analysis._execute

    def timed(connection: duckdb.DuckDBPyConnection, sql: str, parameters: dict) -> duckdb.DuckDBPyConnection:
        cpu_started = _cpu_seconds()
        cursor = execute(connection, sql, parameters)
        statements[" ".join(sql.split())[:90]] += _cpu_seconds() - cpu_started
        return cursor

    repeated = []
    analysis._execute = timed
    try:
        for _ in range(passes):
            started, cpu_started = time.perf_counter(), _cpu_seconds()
            findings = analyze(connection, agent_uuid=AGENT, table="window_spans").findings
            repeated.append((_cpu_seconds() - cpu_started, time.perf_counter() - started))
    finally:
        analysis._execute = execute
    print(f"fixed cost over {path.name} ({len(findings)} findings), CPU-s (user + system) / wall s, median of {passes}:")
    print(f"  first pass, fresh connection : {first[0]:.3f} / {first[1]:.3f}")
    for label, runs in (("fresh connection", fresh), ("repeated, same connection", repeated)):
        print(f"  {label:<29}: {median(run[0] for run in runs):.3f} / {median(run[1] for run in runs):.3f}"
              f"  (best {min(run[0] for run in runs):.3f} CPU-s)")
    print(f"  {len(statements)} distinct statements run by `_execute` (macros excluded); the costliest (CPU-ms a pass):")
    for sql, seconds in sorted(statements.items(), key=lambda item: -item[1])[:15]:
        print(f"    {1000 * seconds / passes:6.1f}  {sql}")


def _statement_name(sql: str) -> str:
    """What a statement is: the set-up table it creates, the detector it is, else its first words (the
    macro definitions, made by a connection's first analysis, are counted together)."""
    from halo_local.heuristics import analysis

    body = analysis._COMMENT.sub("", sql).strip()
    if analysis._creates_macro(sql):
        return "macro definitions"
    created = analysis._created_table(sql)
    if created:
        return created
    for category in analysis.CATEGORIES:
        if analysis._detector_sql(category) == sql:
            return f"detector {category}"
    return " ".join(body.split())[:60]


def statement_costs(snapshot: Path, passes: int, threads: int | None) -> None:
    """Each statement of an analysis over `snapshot`, wall and CPU seconds (see the module docstring)."""
    from halo_local.heuristics import analysis, analyze

    execute, fetch = analysis._execute, analysis._fetch_dicts
    best: dict[str, tuple[float, float]] = {}
    totals = []
    costs: defaultdict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])  # this pass's, by statement

    def timed(connection: duckdb.DuckDBPyConnection, sql: str, parameters: dict) -> duckdb.DuckDBPyConnection:
        started, cpu_started = time.perf_counter(), _cpu_seconds()
        cursor = execute(connection, sql, parameters)
        cost = costs[_statement_name(sql)]
        cost[0] += time.perf_counter() - started
        cost[1] += _cpu_seconds() - cpu_started
        return cursor

    def timed_fetch(connection: duckdb.DuckDBPyConnection, name: str) -> list[dict]:
        started, cpu_started = time.perf_counter(), _cpu_seconds()
        rows = fetch(connection, name)
        cost = costs[name]
        cost[0] += time.perf_counter() - started
        cost[1] += _cpu_seconds() - cpu_started
        return rows

    for _ in range(passes):
        costs.clear()
        connection = duckdb.connect(config={"memory_limit": "768MB"})
        if threads:
            connection.execute(f"SET threads = {int(threads)}")
        connection.read_parquet(str(snapshot)).create_view("window_spans")
        agent = connection.execute("SELECT agent_uuid FROM window_spans LIMIT 1").fetchall()[0][0]
        analysis._execute, analysis._fetch_dicts = timed, timed_fetch
        try:
            started, cpu_started = time.perf_counter(), _cpu_seconds()
            findings = analyze(connection, agent_uuid=agent).findings
            totals.append((time.perf_counter() - started, _cpu_seconds() - cpu_started))
        finally:
            analysis._execute, analysis._fetch_dicts = execute, fetch
            connection.close()
        for name, (wall, cpu) in costs.items():
            if name not in best or cpu < best[name][1]:
                best[name] = (wall, cpu)
    wall, cpu = min(totals, key=lambda total: total[1])
    print(f"analysis over {snapshot.name} ({len(findings)} findings): {wall:.2f} s wall, {cpu:.2f} CPU-s"
          f" (user + system; best of {passes}); {len(best)} statements, costliest first (wall s, CPU-s):")
    for name, (wall, cpu) in sorted(best.items(), key=lambda item: -item[1][1]):
        print(f"  {wall:6.3f} {cpu:6.3f}  {name}")


PHASES = ("generate", "baseline", "textscan", "rowscan", "tracegroup", "detectors", *FLOORS)


@dataclass(frozen=True)
class Options:
    """The command line, typed (fire guesses each value's type from its look)."""

    spans: int
    out: Path
    threads: int | None
    repeat: int
    phase: str | None
    source: str
    db: Path | None


def main(spans: int = 1_000_000, out: str | Path = DEFAULT_OUT,
         threads: int | None = None, repeat: int = 3, phase: str | None = None, source: str = "table",
         db: str | Path | None = None, fixed: bool = False, statements: str | Path | None = None,
         unique_texts: bool = False) -> None:
    args = Options(
        spans=whole_number(spans, "--spans"), out=path_option(out),
        threads=None if threads is None else whole_number(threads, "--threads"),
        repeat=whole_number(repeat, "--repeat"),
        phase=None if phase is None else choice(phase, "--phase", PHASES),
        source=choice(source, "--source", ("table", "parquet")), db=None if db is None else path_option(db))
    unique = switch(unique_texts, "--unique-texts")
    if args.phase == "generate":
        generate(args.db, args.spans, unique)
        return
    if args.phase:
        print(json.dumps(phase_result(args.db, args.source, args.phase, args.threads)))
        return
    if statements is not None:
        statement_costs(path_option(statements), args.repeat, args.threads)
        return
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"analyze-{'unique-' if unique else ''}{args.spans}.duckdb"
    if switch(fixed, "--fixed"):
        if not path.exists():
            generate(path, args.spans, unique)
        fixed_cost(path, max(args.repeat, 5))
        return
    # Generated in a child too: a child's peak RSS would otherwise include this process's.
    subprocess.run([sys.executable, __file__, "--phase", "generate", "--spans", str(args.spans), "--db", str(path),
                    *(["--unique-texts"] if unique else [])], check=True)
    for source in ("table", "parquet"):
        baseline = _best_of(args.repeat, path, source, "baseline", args.threads)
        textscan = _best_of(args.repeat, path, source, "textscan", args.threads)
        rowscan = _best_of(args.repeat, path, source, "rowscan", args.threads)
        tracegroup = _best_of(args.repeat, path, source, "tracegroup", args.threads)
        detectors = _best_of(args.repeat, path, source, "detectors", args.threads)
        floors = {which: _best_of(args.repeat, path, source, which, args.threads) for which in FLOORS}
        print(f"\n{args.spans:,} spans, one agent, source = {source}")
        for label, result in (("baseline full scan", baseline), ("text-column scan", textscan),
                              ("every-column scan", rowscan), ("trace grouping", tracegroup),
                              ("all detectors", detectors)):
            print(f"  {label:<19}: {result['seconds']:7.3f} s   {result['cpuSeconds']:7.3f} CPU-s"
                  f"   peak RSS {result['peak_rss_mb']:6.0f} MB")
        print(f"  findings           : {detectors['findings']} {detectors['byCategory']}")
        print(f"  trace grouping / baseline full scan: {tracegroup['seconds'] / baseline['seconds']:.1f}x time")
        for label, result in (("baseline full scan", baseline), ("text-column scan", textscan),
                              ("every-column scan", rowscan), ("trace grouping", tracegroup)):
            print(f"  detectors / {label:<19}: {detectors['seconds'] / result['seconds']:7.1f}x time, "
                  f"{detectors['peak_rss_mb'] / result['peak_rss_mb']:.1f}x peak RSS")
        floor_seconds = sum(result["seconds"] for result in floors.values())
        print(f"  floor (work no detector set can skip, each part alone; target 10x = "
              f"{10 * baseline['seconds']:.3f} s):")
        for which, result in floors.items():
            print(f"    {FLOOR_LABELS[which]:<19}: {result['seconds']:7.3f} s "
                  f"({result['seconds'] / baseline['seconds']:5.1f}x baseline)   peak RSS {result['peak_rss_mb']:6.0f} MB")
        print(f"    {'together':<19}: {floor_seconds:7.3f} s ({floor_seconds / baseline['seconds']:5.1f}x baseline)")


if __name__ == "__main__":
    run_with_fire(main, __doc__)
