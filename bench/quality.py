"""Finding quality on labelled failures: do the findings point at the agent and the step that caused them?

Data: the Who&When Algorithm-Generated set (tests/fixtures/who-and-when-ag, SOURCE.txt there): 126
failed multi-agent runs, each labelled by people with the agent that made the decisive mistake and
the step where it made it. Every run failed, so this measures attribution, not detection.

How it runs: the file is loaded into a fresh store in a temporary home; every trace is then one
heuristics-only analysis of its own window (the spans of that one trace, as a run of the agent over
a window holding just that run would see them). Per trace it records:

- agent: whether the top-ranked finding's fixTarget names the labelled mistake agent;
- step exact / step +-1: whether any finding's example spans (its evidence, kept to a few spans)
  include the labelled step's span, or a span at most one step away;
- the findings per severity.

Beside, over the same traces: two baselines. "ERROR spans only" flags every span with status ERROR
and names the agent of the first one; "random step" (seeded) flags one step drawn at random and
names its agent. A span's step is its position among the trace's non-root spans by start time (the
converter writes one span per message, in order); a span's agent is the agent name the span states
for itself (`gen_ai.agent.name` / `agent.name`), else its stored agent name.

Usage: python bench/quality.py [--data DIR] [--seed 7] [--json]. Not run by CI; the table goes in the README.
"""

from __future__ import annotations

import json as json_module
import random
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _options import path_option, run_with_fire, switch, whole_number

REPOSITORY = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPOSITORY / "tests" / "fixtures" / "who-and-when-ag"
WINDOW_VIEW = "bench_trace_window"

SPANS_SQL = """
SELECT trace_id, span_id, span_type, status_code, agent_uuid,
       coalesce(json_extract_string(attributes, '$."gen_ai.agent.name"'),
                json_extract_string(attributes, '$."agent.name"'), agent_name) AS agent,
       row_number() OVER (PARTITION BY trace_id ORDER BY start_ns, span_id) - 1 AS step
FROM spans
WHERE nullif(parent_span_id, '') IS NOT NULL
ORDER BY trace_id, start_ns, span_id
"""


@dataclass
class Score:
    """One contender's hits over the runs."""

    runs: int = 0
    agent: int = 0
    step_exact: int = 0
    step_near: int = 0
    flagged_spans: int = 0
    severities: Counter[str] = field(default_factory=Counter)
    runs_with_findings: int = 0

    def add(self, *, agent_hit: bool, exact: bool, near: bool, flagged: int) -> None:
        self.runs += 1
        self.agent += agent_hit
        self.step_exact += exact
        self.step_near += near
        self.flagged_spans += flagged

    def row(self, name: str) -> dict[str, Any]:
        share = (lambda count: round(100.0 * count / self.runs, 1)) if self.runs else (lambda count: 0.0)
        return {
            "contender": name,
            "runs": self.runs,
            "agentPct": share(self.agent),
            "stepExactPct": share(self.step_exact),
            "stepWithinOnePct": share(self.step_near),
            "flaggedSpansPerRun": round(self.flagged_spans / self.runs, 2) if self.runs else 0.0,
            "runsWithFindings": self.runs_with_findings,
            "findingsPerRun": {severity: round(self.severities[severity] / self.runs, 2) if self.runs else 0.0
                               for severity in ("high", "medium", "low")},
        }


def _load_labels(data: Path) -> dict[str, dict[str, Any]]:
    labels = {}
    for path in sorted(data.glob("*.labels.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json_module.loads(line)
                labels[item["trace_id"]] = item
    return labels


def _target_name(finding: Any) -> str | None:
    """The agent a finding blames: its fixTarget when it has one (older builds: its subject)."""
    document = finding.to_json()
    target = document.get("fixTarget")
    if isinstance(target, dict):
        return target.get("name") if target.get("kind") == "agent" else None
    return document.get("subject")


def _same(left: str | None, right: str | None) -> bool:
    return bool(left and right and left.strip().lower() == right.strip().lower())


def measure(data: Path, seed: int) -> dict[str, Any]:
    from halo_local import heuristics
    from halo_local.ingest.loader import load_paths
    from halo_local.store import Store

    labels = _load_labels(data)
    chooser = random.Random(seed)
    findings_score, errors_score, random_score = Score(), Score(), Score()
    per_run: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="halo-quality-") as home:
        store = Store(Path(home))
        load_paths(store, sorted(str(path) for path in data.glob("*.otlp.json")))
        with store.connect() as connection:
            spans: dict[str, list[dict[str, Any]]] = {}
            cursor = connection.execute(SPANS_SQL)
            columns = [item[0] for item in cursor.description]
            for row in cursor.fetchall():
                span = dict(zip(columns, row, strict=True))
                spans.setdefault(span["trace_id"], []).append(span)
            for trace_id in sorted(labels):
                label, trace_spans = labels[trace_id], spans.get(trace_id, [])
                if not trace_spans:
                    continue
                step_of = {span["span_id"]: span["step"] for span in trace_spans}
                mistake_step = int(label["mistake_step"])

                def step_hits(
                    flagged: set[str], step_of: dict[str, int] = step_of, mistake_step: int = mistake_step
                ) -> tuple[bool, bool]:
                    steps = {step_of[span_id] for span_id in flagged if span_id in step_of}
                    return mistake_step in steps, any(abs(step - mistake_step) <= 1 for step in steps)

                connection.execute(
                    f"CREATE OR REPLACE TEMP VIEW {WINDOW_VIEW} AS SELECT * FROM spans WHERE trace_id = "
                    + "'" + trace_id.replace("'", "''") + "'"
                )
                analysis = heuristics.analyze(connection, agent_uuid=trace_spans[0]["agent_uuid"], table=WINDOW_VIEW)
                flagged = {span_id for finding in analysis.findings for span_id in finding.example_span_ids}
                exact, near = step_hits(flagged)
                top = analysis.findings[0] if analysis.findings else None
                findings_score.add(agent_hit=top is not None and _same(_target_name(top), label["mistake_agent"]),
                                   exact=exact, near=near, flagged=len(flagged))
                findings_score.severities.update(finding.severity for finding in analysis.findings)
                per_run.append(_run_row(trace_id, label, analysis.findings, step_of, exact=exact))
                findings_score.runs_with_findings += bool(analysis.findings)

                error_spans = [span for span in trace_spans if span["status_code"] == "error"]
                exact, near = step_hits({span["span_id"] for span in error_spans})
                errors_score.add(agent_hit=bool(error_spans) and _same(error_spans[0]["agent"], label["mistake_agent"]),
                                 exact=exact, near=near, flagged=len(error_spans))
                errors_score.runs_with_findings += bool(error_spans)

                picked = chooser.choice(trace_spans)
                exact, near = step_hits({picked["span_id"]})
                random_score.add(agent_hit=_same(picked["agent"], label["mistake_agent"]), exact=exact, near=near,
                                 flagged=1)
                random_score.runs_with_findings += 1
            connection.execute(f"DROP VIEW IF EXISTS {WINDOW_VIEW}")
    return {
        "data": str(data.relative_to(REPOSITORY) if data.is_relative_to(REPOSITORY) else data),
        "seed": seed,
        "rows": [findings_score.row("findings (top finding's fixTarget)"), errors_score.row("ERROR spans only"),
                 random_score.row(f"random step (seed {seed})")],
        "perRun": per_run,
    }


def _run_row(trace_id: str, label: dict[str, Any], findings: list[Any], step_of: dict[str, int], *,
             exact: bool) -> dict[str, Any]:
    """One run's outcome, to study the misses: the label beside what each finding blamed, in rank order."""
    named = [_target_name(finding) for finding in findings]
    return {
        "traceId": trace_id,
        "mistakeAgent": label["mistake_agent"],
        "mistakeStep": int(label["mistake_step"]),
        "agentHit": bool(named) and _same(named[0], label["mistake_agent"]),
        "stepHit": exact,
        "findings": [
            {"category": finding.category, "severity": finding.severity, "fixTarget": name,
             "steps": sorted(step_of[span_id] for span_id in finding.example_span_ids if span_id in step_of),
             "title": finding.title[:160]}
            for finding, name in zip(findings, named, strict=True)
        ],
    }


def table(result: dict[str, Any]) -> str:
    lines = [
        "| contender | runs | top names mistake agent | labelled step flagged | within one step | flagged spans/run "
        "| runs with findings | findings/run high / medium / low |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in result["rows"]:
        per_run = row["findingsPerRun"]
        severities = f"{per_run['high']} / {per_run['medium']} / {per_run['low']}" if any(per_run.values()) else "-"
        lines.append(
            f"| {row['contender']} | {row['runs']} | {row['agentPct']}% | {row['stepExactPct']}% | "
            f"{row['stepWithinOnePct']}% | {row['flaggedSpansPerRun']} | {row['runsWithFindings']} | {severities} |"
        )
    return "\n".join(lines)


def main(data: str | Path = DEFAULT_DATA, seed: int = 7, json: bool = False) -> None:
    """Args:
        json: the table's rows and one row per run (perRun)
    """
    as_json = switch(json, "--json")
    result = measure(path_option(data).resolve(), whole_number(seed, "--seed"))
    if not as_json:
        result.pop("perRun")
    sys.stdout.write(json_module.dumps(result, indent=2) + "\n" if as_json else table(result) + "\n")


if __name__ == "__main__":
    run_with_fire(main, __doc__)
