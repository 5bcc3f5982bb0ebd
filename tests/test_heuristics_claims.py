"""unsupported_claim: the agent that states a fact no input, tool result or earlier message gave is
named; and a tool failing both by status and in its results is one finding.

Small constructed windows (heuristics_support.Spans) and the Who&When fixture (real AG2 runs).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from heuristics_support import Spans, healthy_trace, of

from halo_local.heuristics import analyze
from halo_local.store import Store

WHO_AND_WHEN = Path(__file__).parent / "fixtures" / "who-and-when-ag"


def _turn(spans: Spans, trace: str, root: str, start: float, agent: str, text: str, **columns: object) -> str:
    return spans.llm(trace, parent=root, start=start, duration=500, output_text=text,
                     attributes=json.dumps({"gen_ai.agent.name": agent}), **columns)


def _pricing_run(spans: Spans, trace: str, start: float) -> dict[str, str]:
    """A group chat: the task gives two figures, one agent states prices it never looked up, a tool
    returns a figure the next agent quotes, and a checker repeats the stated prices."""
    root = spans.agent(trace, start=start, input_text="Family of 4 visits 12 times: is the annual pass cheaper?")
    return {
        "task": _turn(spans, trace, root, start + 10, "Planner", "Plan: find prices for 4 people, 12 visits."),
        "claim": _turn(spans, trace, root, start + 600, "Pricing_Expert",
                       'Daily tickets cost $20.00 for adults; the "Family Fun Pass" costs $1,250 per year.'),
        "tool": spans.tool(trace, "search", parent=root, start=start + 1200, tool_result="Parking: 15 USD per day"),
        "quote": _turn(spans, trace, root, start + 1400, "Budget_Expert",
                       "With parking at 15 USD: 4 x 12 x 20.00 vs 1250, the pass is cheaper."),
        "check": _turn(spans, trace, root, start + 2000, "Checker", "Verified: $20.00 and $1,250 are right."),
    }


def test_the_agent_stating_unsourced_facts_is_named_with_the_facts() -> None:
    spans = Spans()
    steps = _pricing_run(spans, "t1", 0)
    findings = of(spans.findings(), "unsupported_claim")
    by_agent = {finding.fix_target.name: finding for finding in findings}
    claim = by_agent["Pricing_Expert"]
    assert claim.fix_target.kind == "agent" and claim.severity == "low"
    assert claim.example_span_ids == (steps["claim"],) and claim.example_trace_ids == ("t1",)
    assert set(claim.detail["sampleFacts"]) == {"20", "1250", "family fun pass"}  # $20.00 is the 20 of later steps
    assert "Checker" not in by_agent  # it repeats what was stated before it
    # the task's and the tool's figures (4, 12, 15) are given, not stated; the computed 4800 is not
    # there either: Budget_Expert states nothing it was not given
    assert "Budget_Expert" not in by_agent and "Planner" not in by_agent


def test_the_earliest_unsourced_fact_ranks_first() -> None:
    spans = Spans()
    root = spans.agent("t1", input_text="How many moons does the planet have?")
    _turn(spans, "t1", root, 10, "Astronomy_Expert", "It has 27 known moons.")
    _turn(spans, "t1", root, 600, "Verification_Expert", "Confirmed, 27; the largest is 1,070 km across.")
    findings = of(spans.findings(), "unsupported_claim")
    assert [finding.fix_target.name for finding in findings] == ["Astronomy_Expert", "Verification_Expert"]


def test_json_keys_and_single_answers_state_no_facts() -> None:
    spans = Spans()
    root = spans.agent("t1")
    _turn(spans, "t1", root, 10, "Caller", '{"query": "weather", "units": "metric"}')
    _turn(spans, "t1", root, 600, "Caller", "Done.")
    spans.llm("t2", output_text="The answer is 42.")  # a lone call: nothing to check it against
    for number in range(3):
        healthy_trace(spans, f"h{number}", start=10_000 * (number + 1))
    assert of(spans.findings(), "unsupported_claim") == []


def test_a_tool_failing_by_status_and_in_its_results_is_one_finding() -> None:
    spans = Spans()
    for number in range(6):
        trace = f"t{number}"
        root = spans.agent(trace, start=number * 10_000)
        if number < 2:
            spans.tool(trace, "shell", parent=root, start=number * 10_000 + 10, status="error",
                       error_message="Command failed: exit 2",
                       tool_result="Traceback (most recent call last):\nKeyError: 'x'")
        else:
            spans.tool(trace, "shell", parent=root, start=number * 10_000 + 10, status="ok",
                       tool_result="Error: permission denied for /srv/a/b" if number < 4 else "ok")
    findings = spans.findings()
    assert of(findings, "tool_error") == []
    errors = of(findings, "error")
    assert len(errors) == 1
    reasons = {item["reason"]: item["count"] for item in errors[0].detail["reasons"]}
    assert reasons == {"KeyError: '<v>'": 2, "Error: permission denied for <path>": 2}
    assert errors[0].affected_spans == 4 and errors[0].affected_traces == 4


def test_result_failures_of_a_tool_that_never_fails_by_status_stay_tool_errors() -> None:
    spans = Spans()
    spans.tool("t1", "shell", status="ok", tool_result="Error: permission denied for /srv/a/b")
    spans.tool("t2", "fetch", status="error", error_message="boom")
    findings = spans.findings()
    assert [finding.subject for finding in of(findings, "tool_error")] == ["shell"]
    assert [finding.subject for finding in of(findings, "error")] == ["fetch"]


def test_who_and_when_a_fabricated_price_is_the_top_finding(loaded_home: Callable[..., Path]) -> None:
    """AG2 run 'Seattle Children's Museum': Tickets_Pricing_Expert states prices it never looked up
    (the labelled mistake, step 2); the others verify the arithmetic. No span fails."""
    labels = [json.loads(line) for line in
              (WHO_AND_WHEN / "algorithm-generated.labels.jsonl").read_text(encoding="utf-8").splitlines()]
    label = next(item for item in labels if item["mistake_agent"] == "Tickets_Pricing_Expert")
    store = Store(loaded_home(WHO_AND_WHEN / "algorithm-generated.otlp.json"))  # read only: a temp view
    with store.connect() as connection:
        agent = connection.execute("SELECT DISTINCT agent_uuid FROM spans").fetchall()[0][0]
        assert label["trace_id"].isalnum()  # a view cannot take parameters: the id is spliced in
        connection.execute(f"CREATE TEMP VIEW one_trace AS SELECT * FROM spans WHERE trace_id = '{label['trace_id']}'")
        findings = analyze(connection, agent_uuid=agent, table="one_trace").findings
    top = findings[0]
    assert (top.category, top.fix_target.name) == ("unsupported_claim", "Tickets_Pricing_Expert")
    assert label["mistake_span_id"] in top.example_span_ids
