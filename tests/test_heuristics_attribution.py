"""Findings blame the component that must change (fixTarget), one finding per problem with its reasons.

Small constructed windows (heuristics_support.Spans) and the Who&When fixture (real AG2 runs).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from heuristics_support import Spans, healthy_trace, of

from halo_local.heuristics import analyze
from halo_local.store import Store

FIXTURES = Path(__file__).parent / "fixtures"
WHO_AND_WHEN = FIXTURES / "who-and-when-ag"


def _chat_turn(spans: Spans, trace: str, root: str, start: float, agent: str, text: str) -> str:
    return spans.llm(trace, parent=root, start=start, duration=500, output_text=text,
                     attributes=json.dumps({"gen_ai.agent.name": agent}))


def test_a_validator_refusing_40_percent_of_calls_blames_the_calling_agent() -> None:
    spans = Spans()
    for number in range(10):
        trace = f"t{number}"
        root = spans.agent(trace, start=number * 10_000, agent_name="shop")
        _chat_turn(spans, trace, root, number * 10_000 + 10, "checkout_agent", "calling pay")
        refused = number < 4
        spans.tool(trace, "pay", parent=root, start=number * 10_000 + 600,
                   tool_arguments=json.dumps({"amount": 10 + number, "total": 99}),
                   tool_result=(f'{{"error": "invalid payment: amount {10 + number} must equal the total 99"}}'
                                if refused else '{"status": "paid"}'))
    findings = of(spans.findings(), "tool_error")
    assert len(findings) == 1
    finding = findings[0]
    assert finding.fix_target is not None
    assert (finding.fix_target.kind, finding.fix_target.name) == ("agent", "checkout_agent")
    assert finding.detail["blame"] == "refused"
    assert finding.value == pytest.approx(0.4)
    assert finding.detail["sampleArguments"] == '{"amount":10,"total":99}' or "amount" in finding.detail["sampleArguments"]
    assert len(finding.detail["issuedBy"]) == 4  # the model calls that sent the refused arguments
    assert "checkout_agent sends arguments that pay refuses" in finding.title


def test_a_code_executor_with_varied_exceptions_is_one_finding_blaming_the_writer() -> None:
    spans = Spans()
    exceptions = ["NameError: name 'df' is not defined"] * 3 + [
        "TypeError: unsupported operand type(s) for +: 'int' and 'str'",
        "FileNotFoundError: [Errno 2] No such file or directory: 'data.csv'",
    ]
    writer_spans = []
    for number, exception in enumerate(exceptions):
        trace = f"t{number}"
        root = spans.agent(trace, start=number * 10_000, agent_name="group chat")
        writer_spans.append(_chat_turn(spans, trace, root, number * 10_000 + 10, "Analyst",
                                       "```python\nprint(df.head())\n```"))
        spans.tool(trace, "code_execution", parent=root, start=number * 10_000 + 600, status="error",
                   status_message="exitcode: 1 (execution failed)",
                   tool_result=f"exitcode: 1 (execution failed)\nCode output: Traceback (most recent call last):\n"
                               f'  File "<stdin>", line 1, in <module>\n{exception}\n')
        _chat_turn(spans, trace, root, number * 10_000 + 800, "Reviewer", "The code failed, please fix it.")
    findings = of(spans.findings(), "error")
    assert len(findings) == 1
    finding = findings[0]
    assert (finding.fix_target.kind, finding.fix_target.name) == ("agent", "Analyst")
    reasons = [(item["reason"], item["count"]) for item in finding.detail["reasons"]]
    assert reasons[0] == ("NameError: name '<v>' is not defined", 3)
    assert {reason for reason, _ in reasons[1:]} == {
        "TypeError: unsupported operand type(s) for +: '<v>' and '<v>'",
        "FileNotFoundError: [Errno <n>] No such file or directory: '<v>'"}
    assert finding.detail["signature"] == "NameError: name '<v>' is not defined"  # not "exitcode: <n>"
    assert finding.detail["sampleMessage"] == "NameError: name 'df' is not defined"  # the most common variant
    assert set(writer_spans[:3]) <= set(finding.example_span_ids)  # the calls that wrote the failing code
    assert "(+2 other reasons)" in finding.title


def test_a_tool_crashing_inside_its_own_code_blames_the_tool() -> None:
    spans = Spans()
    for number in range(4):
        trace = f"t{number}"
        root = spans.agent(trace, start=number * 10_000)
        _chat_turn(spans, trace, root, number * 10_000 + 10, "planner", "looking it up")
        spans.tool(trace, "lookup", parent=root, start=number * 10_000 + 600, status="error",
                   tool_arguments=json.dumps({"id": number}),
                   tool_result='Traceback (most recent call last):\n  File "/srv/lookup.py", line 9, in run\n'
                               "AttributeError: 'NoneType' object has no attribute 'rows'")
    finding = of(spans.findings(), "error")[0]
    assert (finding.fix_target.kind, finding.fix_target.name) == ("tool", "lookup")
    assert finding.detail["blame"] == "crashed"


def test_an_environment_failure_blames_the_infrastructure() -> None:
    spans = Spans()
    for number in range(3):
        root = spans.agent(f"t{number}", start=number * 10_000)
        spans.tool(f"t{number}", "fetch", parent=root, start=number * 10_000 + 600, status="error",
                   error_message="HTTP 503 Service Unavailable from upstream")
    finding = of(spans.findings(), "error")[0]
    assert (finding.fix_target.kind, finding.fix_target.name) == ("infrastructure", "fetch")


def test_every_finding_names_a_fix_target_and_an_example_trace() -> None:
    spans = Spans()
    for number in range(6):
        healthy_trace(spans, f"ok{number}", start=number * 10_000)
    spans.llm("ok0", model="mystery-model", cost=None, start=50)
    spans.tool("ok1", "lookup", status="error", error_message="boom", start=60)
    findings = spans.findings()
    assert findings
    for finding in findings:
        assert finding.fix_target is not None and finding.example_trace_ids
    unpriced = [item for item in findings if item.metric == "unpriced_usage"][0]
    assert unpriced.fix_target.kind == "instrumentation"


def test_usage_outside_model_calls_is_a_data_quality_finding() -> None:
    spans = Spans()
    for number in range(3):
        root = spans.agent(f"t{number}", start=number * 10_000)
        spans.add(f"t{number}", "summarize", type="agent", parent=root, start=number * 10_000 + 10,
                  model="gpt-4o", input_tokens=50, output_tokens=5)
    findings = [item for item in of(spans.findings(), "data_quality") if item.metric == "usage_outside_model_calls"]
    assert len(findings) == 1 and findings[0].subject == "gpt-4o" and findings[0].affected_spans == 3


def test_a_check_note_never_counts_zero_beside_a_finding() -> None:
    spans = Spans()
    root = spans.agent("t1")
    spans.add("t1", "summarize", type="agent", parent=root, model="gpt-4o", input_tokens=50, output_tokens=5)
    with spans.connect() as connection:
        analysis = analyze(connection, agent_uuid=spans.rows[0]["agent_uuid"], table="spans")
    for check in analysis.checks:
        if check.findings:
            assert " over 0 " not in check.note + " "


@pytest.fixture(scope="module")
def who_and_when(loaded_home: Callable[..., Path]) -> list:
    store = Store(loaded_home(WHO_AND_WHEN / "algorithm-generated.otlp.json"))  # read only: temp views
    labels = [json.loads(line) for line in
              (WHO_AND_WHEN / "algorithm-generated.labels.jsonl").read_text(encoding="utf-8").splitlines()]
    wanted = [label for label in labels if label["mistake_agent"] != "Computer_terminal"][:12]
    results = []
    with store.connect() as connection:
        agent = connection.execute("SELECT DISTINCT agent_uuid FROM spans").fetchall()[0][0]
        for label in wanted:
            assert label["trace_id"].isalnum()  # a view cannot take parameters: the id is spliced in
            connection.execute(f"CREATE OR REPLACE TEMP VIEW one_trace AS SELECT * FROM spans "
                               f"WHERE trace_id = '{label['trace_id']}'")
            results.append((label, analyze(connection, agent_uuid=agent, table="one_trace").findings))
    return results


def test_who_and_when_code_failures_blame_the_agent_that_wrote_the_code(who_and_when: list) -> None:
    failing = [(label, findings) for label, findings in who_and_when
               if any(item.category == "error" for item in findings)]
    assert failing
    for _, findings in failing:
        for finding in of(findings, "error"):
            assert finding.fix_target.kind == "agent" and finding.fix_target.name != "Computer_terminal"
            assert not finding.detail["signature"].startswith("exitcode")
    named = sum(findings[0].fix_target.name == label["mistake_agent"] for label, findings in failing)
    assert named >= len(failing) // 2


def test_a_routing_line_in_every_trace_is_boilerplate_not_a_loop() -> None:
    spans = Spans()
    for number in range(4):
        trace = f"t{number}"
        for turn in range(4):  # the orchestrator names the next speaker before every hand-off
            spans.add(trace, f"Orchestrator step {turn}", type="llm", start=number * 10_000 + turn * 1_000,
                      output_text="Next speaker WebSurfer")
    spans.add("t0", "Orchestrator step 9", type="llm", start=9_000, output_text="I will search the web again now.")
    spans.add("t0", "Orchestrator step 10", type="llm", start=9_500, output_text="I will search the web again now.")
    spans.add("t0", "Orchestrator step 11", type="llm", start=9_800, output_text="I will search the web again now.")
    loops = of(spans.findings(), "loop")
    assert len(loops) == 1  # the real loop, once, under one subject whatever the step number
    assert loops[0].subject == "Orchestrator step <n>"
    assert loops[0].affected_traces == 1 and loops[0].value == 3
    assert loops[0].example_trace_ids == ("t0",)


def test_an_output_loop_blames_the_agent_that_repeats_itself() -> None:
    spans = Spans()
    root = spans.agent("t0", agent_name="group chat")
    _chat_turn(spans, "t0", root, 10, "Planner", "Let us look this up on the web.")
    for turn in range(4):
        spans.add("t0", f"Searcher step {turn + 1}", type="llm", parent=root, start=1_000 + turn * 1_000,
                  output_text="Address: https://example.org/page Viewport position: top",
                  attributes=json.dumps({"gen_ai.agent.name": "Searcher"}))
    loops = of(spans.findings(), "loop")
    assert len(loops) == 1 and loops[0].subject == "Searcher step <n>"
    assert (loops[0].fix_target.kind, loops[0].fix_target.name) == ("agent", "Searcher")


def test_step_numbers_and_ids_do_not_split_a_subject() -> None:
    spans = Spans()
    for number in range(4):
        spans.add(f"t{number}", f"Planner step {number}", type="agent", start=number * 1_000, status="error",
                  error_message="planner gave up")
    errors = of(spans.findings(), "error")
    assert len(errors) == 1 and errors[0].subject == "Planner step <n>" and errors[0].affected_spans == 4


def test_an_agent_working_from_made_up_data_is_named() -> None:
    spans = Spans()
    for number in range(3):
        trace = f"t{number}"
        root = spans.agent(trace, start=number * 10_000)
        _chat_turn(spans, trace, root, number * 10_000 + 10, "Planner", "First I will look for the figures.")
        _chat_turn(spans, trace, root, number * 10_000 + 600, "Analyst",
                   "The source is unavailable, so let's assume the population was 56,000 and continue.")
    _chat_turn(spans, "t0", "x", 50_000, "Analyst", "The assumption of normality holds for these residuals.")
    findings = of(spans.findings(), "assumed_data")
    assert len(findings) == 1
    finding = findings[0]
    assert (finding.fix_target.kind, finding.fix_target.name) == ("agent", "Analyst")
    assert finding.affected_spans == 3 and finding.severity == "medium"
