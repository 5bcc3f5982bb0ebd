"""Detectors of failure without an error status, and trace verdicts, on small span sets built to
trigger each one, with a healthy near miss each that must give no finding."""

from __future__ import annotations

import json

import pytest
from heuristics_support import AGENT, Spans, healthy_trace, of

from halo_local.heuristics import Finding, analyze
from halo_local.verdicts import build_verdicts


def _healthy_window(spans: Spans, traces: int = 6) -> None:
    for number in range(traces):
        healthy_trace(spans, f"ok{number}", start=number * 10_000)


def _refused_and_resent(spans: Spans, trace: str, second_arguments: str, second_status: str) -> None:
    root = spans.agent(trace, duration=5_000)
    spans.llm(trace, parent=root, start=10, duration=500, finish_reason="tool_calls", declared_tools=["book_flight"])
    spans.tool(trace, "book_flight", parent=root, start=600, status="error",
               error_message="payment total 120 does not match the price 150",
               tool_arguments='{"flight": "UA12", "payment": 120}')
    spans.llm(trace, parent=root, start=800, duration=500, finish_reason="tool_calls", declared_tools=["book_flight"])
    spans.tool(trace, "book_flight", parent=root, start=1_400, status=second_status,
               error_message="payment total 125 does not match the price 150" if second_status == "error" else None,
               tool_arguments=second_arguments, tool_result=None if second_status == "error" else "booked")


def test_refused_call_sent_again_is_the_agents_fault() -> None:
    spans = Spans()
    _healthy_window(spans)
    _refused_and_resent(spans, "r1", '{"flight": "UA12", "payment": 120}', "error")  # identical
    _refused_and_resent(spans, "r2", '{"flight": "UA12", "payment": 125}', "error")  # near-same
    findings = of(spans.findings(), "refused_retry")
    assert len(findings) == 1
    finding = findings[0]
    assert finding.subject == "book_flight" and finding.affected_traces == 2 and finding.affected_spans == 2
    assert finding.detail["identicalCalls"] == 1
    assert set(finding.affected_trace_ids) == {"r1", "r2"}


def test_corrected_arguments_that_succeed_are_no_resend() -> None:
    spans = Spans()
    _healthy_window(spans)
    # Near-same text, but the tool accepted it: the agent corrected the call, as it should.
    _refused_and_resent(spans, "r1", '{"flight": "UA12", "payment": 150}', "ok")
    # A different call refused again is not the same call.
    _refused_and_resent(spans, "r2", '{"flight": "LH400", "seat": "14C", "payment": 99}', "error")
    assert of(spans.findings(), "refused_retry") == []


def _ending(spans: Spans, trace: str, *, last_tool: str | None = None, final: str | None = None,
            start: float = 0.0) -> None:
    root = spans.agent(trace, start=start, duration=4_000)
    spans.llm(trace, parent=root, start=start + 10, duration=500, finish_reason="tool_calls")
    spans.tool(trace, "lookup_order", parent=root, start=start + 600, tool_arguments='{"id": 1}', tool_result="found")
    if last_tool is not None:
        spans.tool(trace, last_tool, parent=root, start=start + 800, tool_arguments="{}", tool_result="ok")
    if final is not None:
        spans.llm(trace, parent=root, start=start + 1_000, duration=500, finish_reason="stop", output_text=final)
    spans.llm(trace, parent=root, start=start + 1_600, duration=100, finish_reason="stop", output_text="TERMINATE")


def test_runs_ending_in_a_hand_off_or_a_give_up() -> None:
    spans = Spans()
    _healthy_window(spans, 4)
    for number in range(3):
        _ending(spans, f"h{number}", last_tool="transfer_to_human_agents",
                final="You are being transferred to a human agent.", start=100_000 + number * 10_000)
    _ending(spans, "g1", final="I'm sorry, but I was unable to determine the refund amount for this order.",
            start=200_000)
    findings = {item.subject: item for item in of(spans.findings(), "gave_up")}
    assert set(findings) == {"transfer_to_human_agents", None}
    handoff = findings["transfer_to_human_agents"]
    assert handoff.affected_traces == handoff.failed_traces == 3
    assert handoff.severity == "high"  # 3 of 8 traces ended by handing the task over
    assert handoff.detail["kind"] == "handoff"
    declined = findings[None]
    assert declined.affected_trace_ids == ("g1",) and declined.detail["kind"] == "declined"
    assert "unable to determine" in declined.title


def test_a_give_up_blames_the_agent_whose_final_message_declined() -> None:
    spans = Spans()
    _healthy_window(spans, 4)
    root = spans.agent("d1", start=300_000, duration=4_000, agent_name="group chat")
    spans.llm("d1", parent=root, start=300_010, duration=500, output_text="Here is the plan: search, then sum.",
              attributes=json.dumps({"gen_ai.agent.name": "Planner"}))
    spans.llm("d1", parent=root, start=301_000, duration=500,
              output_text="Unfortunately, I cannot complete the task as I am unable to access the paper.",
              attributes=json.dumps({"gen_ai.agent.name": "Researcher"}))
    declined = of(spans.findings(), "gave_up")
    assert len(declined) == 1 and declined[0].detail["kind"] == "declined"
    assert (declined[0].fix_target.kind, declined[0].fix_target.name) == ("agent", "Researcher")


def test_a_transfer_mid_run_or_a_plain_answer_is_no_give_up() -> None:
    spans = Spans()
    _healthy_window(spans, 4)
    root = spans.agent("m1", duration=4_000)
    spans.tool("m1", "transfer_to_billing_agent", parent=root, start=100, tool_arguments="{}", tool_result="ok")
    spans.tool("m1", "lookup_order", parent=root, start=600, tool_arguments='{"id": 2}', tool_result="found")
    _ending(spans, "a1", final="The refund of $40 was issued; you will see it in 3 days.", start=50_000)
    # Inability inside the run, then an answer: the last substantive message decides.
    _ending(spans, "a2", final="Your order ships tomorrow.", start=60_000)
    spans.llm("a2", start=60_500, duration=100, output_text="I cannot find the tracking number yet, checking again.")
    assert of(spans.findings(), "gave_up") == []


def test_claiming_no_web_access_while_a_search_tool_is_declared() -> None:
    spans = Spans()
    _healthy_window(spans, 4)
    spans.llm("c1", start=0, output_text="I cannot browse the internet, so I will answer from memory: 1987.",
              declared_tools=["web_search", "calculator"])
    spans.llm("c2", start=5_000, output_text="Unfortunately we don't have access to the web here; the answer is 12.",
              declared_tools=["web_search"])
    findings = of(spans.findings(), "incapability")
    assert len(findings) == 1
    finding = findings[0]
    assert finding.subject == "web" and finding.affected_traces == 2
    assert set(finding.detail["tools"]) <= {"websearch", "search"}  # offered on the call, or called in the window


def test_a_claim_no_tool_contradicts_is_no_finding() -> None:
    spans = Spans()
    _healthy_window(spans, 4)  # these call a `search` tool: web access exists, but not image viewing
    spans.llm("c1", start=0, output_text="I cannot view the image you attached; please describe it.",
              declared_tools=["calculator"])
    spans.llm("c2", start=5_000, output_text="I cannot help with that request.", declared_tools=["web_search"])
    assert of(spans.findings(), "incapability") == []


def test_stall_and_replan_markers() -> None:
    spans = Spans()
    _healthy_window(spans, 4)
    for number in range(3):
        trace = f"s{number}"
        spans.llm(trace, start=number * 10_000, output_text="Stalled.... Replanning...")
        spans.llm(trace, start=number * 10_000 + 2_000, output_text="We are making no progress on the download.")
    findings = of(spans.findings(), "stall")
    assert len(findings) == 1
    finding = findings[0]
    assert finding.affected_traces == 3 and finding.affected_spans == 6
    assert finding.detail["sampleMarkers"] == ["making no progress", "stalled"]


def test_install_and_progress_bars_are_no_stall() -> None:
    spans = Spans()
    _healthy_window(spans, 4)
    spans.llm("i1", start=0, output_text="Installing the package first: pip install requests. Progress: 40%.")
    spans.tool("i1", "shell", start=2_000, tool_arguments='{"cmd": "pip install x"}',
               tool_result="Successfully installed x-1.0")
    assert of(spans.findings(), "stall") == []


def _stepped_trace(spans: Spans, trace: str, steps: int, start: float) -> None:
    root = spans.agent(trace, start=start, duration=steps * 200 + 100)
    for step in range(steps):
        spans.tool(trace, "fetch", parent=root, start=start + step * 200, duration=150,
                   tool_arguments=json.dumps({"page": step, "trace": trace}), tool_result="ok")


def test_a_run_far_past_a_tight_norm_is_flagged_below_a_fixed_multiple() -> None:
    spans = Spans()
    for number in range(20):
        _stepped_trace(spans, f"n{number:02d}", 10 + number % 3, start=number * 100_000)
    _stepped_trace(spans, "long", 18, start=3_000_000)  # 1.6x the median: under excessive_steps' 3x
    every = spans.findings()
    findings = of(every, "long_run")
    assert {item.metric for item in findings} >= {"trace_steps"}
    steps = next(item for item in findings if item.metric == "trace_steps")
    assert steps.affected_trace_ids == ("long",) and steps.baseline == 11
    assert of(every, "excessive_steps") == []


def test_a_wide_norm_flags_no_long_run() -> None:
    spans = Spans()
    for number in range(20):
        _stepped_trace(spans, f"w{number:02d}", 5 + number, start=number * 100_000)  # 5 .. 24 steps, evenly
    assert of(spans.findings(), "long_run") == []


def test_verdicts_rank_bad_endings_then_specific_findings() -> None:
    spans = Spans()
    _healthy_window(spans, 6)
    _ending(spans, "h1", last_tool="escalate_to_supervisor", start=100_000)
    root = spans.agent("e1", start=200_000, status="error", error_message="agent crashed")
    spans.tool("e1", "lookup_order", parent=root, start=200_100, status="error", error_message="agent crashed")
    _refused_and_resent(spans, "r1", '{"flight": "UA12", "payment": 120}', "error")
    with spans.connect() as connection:
        analysis = analyze(connection, agent_uuid=AGENT, table="spans")
    verdicts = build_verdicts(analysis.outcomes, analysis.findings)
    ranked = [item.trace_id for item in verdicts]
    assert len(ranked) == 9 and set(ranked[:3]) == {"e1", "h1", "r1"}
    assert ranked[0] == "e1"  # a failed root weighs most
    by_trace = {item.trace_id: item for item in verdicts}
    assert by_trace["e1"].outcome == "failed" and by_trace["h1"].outcome == "handed_off"
    assert by_trace["r1"].outcome == "ok" and by_trace["r1"].score > 0
    assert any(key.startswith("refused_retry:") for key in by_trace["r1"].finding_keys)
    assert all(by_trace[f"ok{number}"].score == 0 for number in range(6))
    assert [item.rank for item in verdicts] == list(range(1, 10))


def test_a_finding_covering_every_trace_does_not_flag_them() -> None:
    everywhere = Finding.from_json({
        "category": "data_quality", "severity": "medium", "title": "t", "subject": None, "agentUuid": AGENT,
        "metric": "m", "value": None, "baseline": None, "affectedTraces": 2, "affectedSpans": 2, "traceShare": 1.0,
        "spanShare": 1.0, "impactSeconds": 0.0, "impactUsd": None, "failedTraces": 0,
        "affectedTraceIds": ["a", "b"], "exampleTraceIds": ["a", "b"]})
    outcomes = [{"trace_id": trace, "outcome": "ok", "ended_badly": False, "outcome_span_id": None, "spans": 1,
                 "duration_ms": 1.0, "first_seen": None} for trace in ("a", "b")]
    verdicts = build_verdicts(outcomes, [everywhere])
    assert [item.score for item in verdicts] == [0, 0]
    assert all(item.finding_keys == (everywhere.key,) for item in verdicts)


@pytest.mark.parametrize("category", ["refused_retry", "gave_up", "incapability", "stall", "long_run",
                                      "assumed_data", "unsupported_claim"])
def test_healthy_traces_give_no_new_finding(category: str) -> None:
    spans = Spans()
    _healthy_window(spans, 12)
    assert of(spans.findings(), category) == []


def test_severity_follows_how_the_touched_traces_ended() -> None:
    """Twelve identical calls in one run that ended well is not high; the same loop in runs that
    gave up, over a real share of the window, is."""
    def looping(spans: Spans, trace: str, start: float, final: str) -> None:
        root = spans.agent(trace, start=start, duration=20_000)
        for turn in range(12):
            spans.tool(trace, "read_file", parent=root, start=start + turn * 500, tool_arguments='{"path": "a.txt"}',
                       tool_result="same text")
        spans.llm(trace, parent=root, start=start + 7_000, output_text=final)

    healthy_run = Spans()
    _healthy_window(healthy_run, 12)
    looping(healthy_run, "l1", 500_000, "The file says: same text.")
    loops = of(healthy_run.findings(), "loop")
    assert loops and {item.severity for item in loops} == {"medium"}

    gave_up = Spans()
    _healthy_window(gave_up, 12)
    for number in range(3):
        looping(gave_up, f"l{number}", 500_000 + number * 50_000, "I was unable to complete the task with this file.")
    loops = of(gave_up.findings(), "loop")
    assert loops and {item.severity for item in loops} == {"high"}
