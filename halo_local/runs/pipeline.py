"""Executing a run: the worker's body, also the foreground of `--wait` and of follow-ups.

An analysis takes its snapshot, runs the heuristics, then the LLM step, and writes the report; a
follow-up runs the LLM step on its analysis run's report and findings. The LLM step is one function
for both: a failure degrades the run instead of failing it, and a cancel or the time limit during the
LLM call keeps the heuristics' result (report or findings-based answer) under the run's final status.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from halo_local import changes, conversations, heuristics, html_report, llm, report, verdicts
from halo_local.common.timestamps import iso, utc_now
from halo_local.resources import sql_text
from halo_local.runs import snapshot
from halo_local.runs.control import (
    RunControl,
    Stopped,
    describe_exception,
    heartbeat,
    stop_on_signals,
)
from halo_local.runs.options import DEFAULT_CANCEL_REASON
from halo_local.runs.rows import (
    REPORT_FILE,
    RunRecord,
    finish,
    minutes,
    run_record,
    save_findings,
    source_overview,
    status_of,
    writing,
)
from halo_local.runs.run_document import OnEvent, RunEvent
from halo_local.runs.worker import process_start_ticks
from halo_local.sources.overview import local_overview
from halo_local.store import Store

log = logging.getLogger("halo_local.runs")

# A run stopped during its LLM pass for these reasons still writes the heuristics-only report.
LLM_STOP_KEEPS_REPORT = frozenset({"cancelled", "timed_out"})


def execute_run(store: Store, run_id: str, *, on_event: OnEvent | None = None,
                release: Callable[[], None] | None = None) -> str:
    """Run a queued run to its end here and return its final status.

    Never raises for what happens inside the run: errors end it `failed` with the reason, a cancel
    request or a signal ends it `cancelled`, the time limit `timed_out`. Only a second Ctrl-C
    escapes (after the run was marked cancelled). `release` lets go of the caller's opening of the
    database once this one holds it (`run create --wait`: one opening from the run's rows to its snapshot).
    """
    with ExitStack() as opened:
        # The database stays open from the claim through the snapshot (which holds it open anyway): the
        # run's first events, its first heartbeat and the snapshot's writes share one opening, where each
        # opened, wrote and checkpointed it (~30 ms of CPU each).
        opened.enter_context(store.held_open())
        if release is not None:
            release()
        run = run_record(store, run_id)
        control = RunControl(store, run_id, run.time_limit_seconds, on_event)
        if not _mark_running(store, run_id):
            return status_of(store, run_id)
        control.event("started", f"started in process {os.getpid()}", {"pid": os.getpid(), "kind": run.kind})
        with heartbeat(control), stop_on_signals(control):
            try:
                if run.kind == "followup":
                    opened.close()  # never held across the LLM call
                    return _answer_followup(control, run)
                return _analyse(control, run, opened.close)
            except Stopped as stop:
                return control.finish(stop.status, stop.reason)
            except (llm.LlmCancelled, duckdb.InterruptException):
                status, reason = control.stop_requested() or ("cancelled", DEFAULT_CANCEL_REASON)
                return control.finish(status, reason)
            except KeyboardInterrupt:
                control.finish("cancelled", "interrupted by SIGINT")
                raise
            except Exception as error:  # the run must end failed whatever broke, with the reason recorded
                log.exception("run %s failed", run_id)
                pending = control.stop_requested()
                if pending is not None and pending[0] != "failed":
                    return control.finish(*pending)
                return control.finish("failed", describe_exception(error))


def _mark_running(store: Store, run_id: str) -> bool:
    """queued → running, claiming the run for this process; False if it was cancelled or taken."""
    with writing(store) as connection:
        updated = connection.execute(sql_text("runs/mark_running.sql"), {
            "at": utc_now(), "pid": os.getpid(), "host": socket.gethostname(),
            "ticks": process_start_ticks(os.getpid()), "run_id": run_id,
        }).fetchall()[0][0]
    return bool(updated)


def _analyse(control: RunControl, run: RunRecord, close_database: Callable[[], None]) -> str:
    """The snapshot, the detectors, the LLM step and the reports; `close_database` ends the opening of the
    database that the snapshot step shares, before the detectors."""
    store, run_id = control.store, control.run_id
    run_dir = store.runs_dir / run_id
    run_dir.mkdir(parents=True, exist_ok=True)

    control.check()
    control.event("step_started", "snapshot: copying the agent's spans in the window", {"step": "snapshot"})
    dataset = snapshot.take_snapshot(control, run, run_dir)
    cut = f", cut by the span limit from {dataset.window_spans:,}" if dataset.truncated else ""
    control.event("step_finished", f"snapshot: {dataset.snapshot_spans:,} spans in {dataset.snapshot_traces:,} "
                  f"traces{cut}", {"step": "snapshot", "spans": dataset.snapshot_spans,
                                    "traces": dataset.snapshot_traces, "truncated": dataset.truncated,
                                    "previousSpans": dataset.previous_spans}, held=True)

    control.check()
    control.event("step_started", "heuristics: running the detectors on the snapshot", {"step": "heuristics"})
    close_database()
    with snapshot.snapshot_connection(control, dataset) as connection, \
            ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"sections-{run_id}") as beside:
        # The report's sections (over the snapshot and the store) run beside the detectors, which keep
        # only ~1.7 of the 2 cores busy: at 1M spans they took 0.8 s of wall time after them.
        sections_done = beside.submit(_report_sections, store, run, run_dir, snapshot.snapshot_reader(connection, dataset))
        analysis = heuristics.analyze(
            connection, agent_uuid=run.agent_uuid, table="window_spans",
            previous_table="previous_spans" if dataset.previous is not None else None,
            thresholds=heuristics.load_thresholds(
                store.home, json.loads(run.thresholds) if run.thresholds else None),
        )
        sections = sections_done.result()
    findings = analysis.findings
    documents = [item.to_json() for item in findings]
    findings_json = json.dumps(documents, default=str)
    with control.writing() as connection:
        save_findings(connection, run_id, documents, [check.to_json() for check in analysis.checks])
        comparison = changes.compare(findings, changes.previous_run(
            connection, run_id=run_id, agent_uuid=run.agent_uuid, created_at=run.created_at))
        changes.save_changes(connection, run_id, comparison)
    control.event("step_finished", f"heuristics: {len(findings)} findings", {
        "step": "heuristics", "findings": len(findings),
        "bySeverity": {level: sum(1 for item in findings if item.severity == level) for level in ("high", "medium", "low")},
    }, held=True)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"verdicts-{run_id}") as beside:
        # The trace verdicts (0.6 CPU-s at 50k traces) are ranked and saved beside the LLM step and
        # report.html; only report.md waits for them, for its "read these traces first".
        read_first = beside.submit(_save_verdicts, store, run_id, analysis.outcomes, findings_json)
        return _explain_and_report(control, run, dataset, sections, analysis, comparison, read_first)


def _save_verdicts(store: Store, run_id: str, outcomes: list[dict[str, Any]], findings_json: str) -> list[verdicts.TraceVerdict]:
    """Save the run's trace verdicts and return the report's first flagged ones. Outside WRITE_LOCK, which
    keeps two transactions of this process from appending to one table (the timeline): nothing else
    writes trace_verdicts, so the run's events and the LLM step's writes need not wait for it."""
    with store.transaction() as connection:
        verdicts.save_verdicts(connection, run_id, outcomes, findings_json)
        return verdicts.read_first(connection, run_id, report.READ_FIRST)


def _explain_and_report(control: RunControl, run: RunRecord, dataset: snapshot.Dataset,
                        sections: report.ReportSections, analysis: heuristics.Analysis, comparison: changes.Changes,
                        read_first: Future[list[verdicts.TraceVerdict]]) -> str:
    """The LLM step of an analysis, then its reports and its end."""
    run_id, findings = control.run_id, analysis.findings
    control.check()
    context = {
        "runId": run_id, "agentUuid": run.agent_uuid, "agentName": run.agent_name,
        "windowStart": iso(run.window_start), "windowEnd": iso(run.window_end),
        "spans": dataset.snapshot_spans, "traces": dataset.snapshot_traces, "truncated": dataset.truncated,
        "overview": sections.overview,
    }
    outcome = _llm_step(
        control, run, _ANALYSIS_WORDING, lambda: llm.run_analysis(
            snapshot=dataset.snapshot, findings=findings, context=context, prompt=run.prompt,
            model_id=run.model_id, max_turns=run.max_turns, max_subagent_depth=run.max_subagent_depth,
            on_event=control.llm_event, should_cancel=control.should_cancel,
        ))
    if outcome.result is not None:
        result = outcome.result
        control.event("step_finished", f"llm: {result.turns} turns, {len(result.notes)} issues explained",
                      {"step": "llm", "turns": result.turns, "notes": len(result.notes),
                       "inventedIdsRemoved": result.invented_ids_removed})

    if outcome.stopped is None:
        control.check()
    with control.store.held_open():  # the report is quick: its events and the run's end share one open database
        return _write_reports(control, run, dataset, sections, analysis, comparison, read_first, outcome)


def _write_reports(control: RunControl, run: RunRecord, dataset: snapshot.Dataset, sections: report.ReportSections,
                   analysis: heuristics.Analysis, comparison: changes.Changes,
                   read_first: Future[list[verdicts.TraceVerdict]], outcome: LlmOutcome) -> str:
    """report.html, then report.md once the verdicts are saved (their events in that order), then the run's end."""
    findings = analysis.findings
    run_dir = control.store.runs_dir / control.run_id
    control.event("step_started", "report: rendering", {"step": "report"})
    page_event = _write_html(control, run, dataset, findings, comparison, outcome.result)
    markdown = report.render_report(
        run=_report_run_facts(run, dataset), sections=sections, findings=findings, changes=comparison,
        checks=analysis.checks, llm_state=report.LlmState(
            ran=outcome.result is not None, skipped_reason=outcome.skipped_reason, degraded=outcome.degraded,
            error=outcome.error, stopped=outcome.stopped is not None, model_id=run.model_id, result=outcome.result,
        ),
        read_first=read_first.result(),
    )
    report_path = run_dir / REPORT_FILE
    report_path.write_text(markdown, encoding="utf-8")
    control.event("step_finished", f"report: {len(markdown):,} characters", {"step": "report", "path": str(report_path)},
                  held=True)
    control.event(*page_event, held=True)
    if outcome.stopped is not None:
        return _complete(control, run, markdown, report_path, outcome.stopped[1], status=outcome.stopped[0])
    reason = (f"LLM pass failed ({outcome.error}); the report is heuristics-only (degraded)"
              if outcome.degraded else None)
    return _complete(control, run, markdown, report_path, reason)


def _answer_followup(control: RunControl, run: RunRecord) -> str:
    """A follow-up: the LLM answers from the report, findings and snapshot; else (also when the LLM pass is
    cancelled or timed out, which the run's status keeps) the findings do."""
    if run.parent_run_id is None:
        raise Stopped("failed", "the follow-up has no analysis run to answer from")
    parent = run_record(control.store, run.parent_run_id)
    findings = [heuristics.Finding.from_json(item) for item in json.loads(parent.findings or "[]")]
    history = conversations.history(control.store, run.conversation_id, excluding_run_id=control.run_id)
    first_answer = next((index for index, (role, _) in enumerate(history) if role == "assistant"), None)
    report_markdown = history[first_answer][1] if first_answer is not None else ""
    earlier = history[first_answer + 1:] if first_answer is not None else []
    control.check()
    outcome = _llm_step(
        control, run, _FOLLOWUP_WORDING, lambda: llm.answer_followup(
            snapshot=Path(run.snapshot_path), report_markdown=report_markdown,
            findings=findings,
            history=earlier, question=run.prompt, model_id=run.model_id, max_turns=run.max_turns,
            on_event=control.llm_event, should_cancel=control.should_cancel,
        ))
    if outcome.result is not None:
        answer = report.render_llm_answer(answer=outcome.result.summary, model_id=run.model_id,
                                          link_hosts=report.snapshot_link_hosts(Path(run.snapshot_path)))
    else:
        answer = report.render_followup_answer(question=run.prompt, findings=findings,
                                               unavailable_reason=outcome.unavailable_reason())
    if outcome.stopped is not None:
        return _complete(control, run, answer, None, outcome.stopped[1], status=outcome.stopped[0])
    control.check()
    reason = (f"LLM pass failed ({outcome.error}); answered from the findings (degraded)"
              if outcome.degraded else None)
    return _complete(control, run, answer, None, reason)


# ---------------------------------------------------------------------------------------------
# The LLM step


@dataclass(frozen=True)
class _LlmWording:
    """How the timeline words the LLM step of an analysis or of a follow-up."""

    doing: str  # "analysing", "answering"
    with_model_detail: bool  # whether step_started's detail names the model
    instead_after_stop: str  # what the run does instead when the step is stopped
    instead_after_failure: str  # what the run does instead when the LLM fails


_ANALYSIS_WORDING = _LlmWording("analysing", True, "writing the heuristics-only report", "continuing heuristics-only")
_FOLLOWUP_WORDING = _LlmWording("answering", False, "answering from the findings", "answering from the findings")


@dataclass(frozen=True)
class LlmOutcome:
    """What the LLM step came to: a result, or why there is none (skipped, failed, stopped)."""

    result: llm.LlmResult | None = None
    skipped_reason: str | None = None
    error: str | None = None  # a failure, or the note of a stop: the run is degraded
    stopped: tuple[str, str] | None = None  # (status, reason) the run ends with after the step

    @property
    def degraded(self) -> bool:
        return self.error is not None

    def unavailable_reason(self) -> str:
        """Why a follow-up is answered from the findings, as the answer says it."""
        if self.stopped is not None:
            return f"the LLM pass {self.error}"
        if self.error is not None:
            return f"the LLM pass failed ({self.error})"
        return self.skipped_reason or ""


def _llm_step(control: RunControl, run: RunRecord, wording: _LlmWording,
              call: Callable[[], llm.LlmResult]) -> LlmOutcome:
    """Run the LLM call when allowed; its failure degrades the run instead of failing it, and a cancel or
    the time limit during it stops the run after its heuristics-only output is written."""
    skip = llm.llm_skip_reason(bool(run.no_llm))
    if skip is not None:
        with control.writing() as connection:
            connection.execute(sql_text("runs/save_llm_skip.sql"), {"reason": skip, "run_id": control.run_id})
        control.event("llm_skipped", f"LLM pass skipped: {skip}", {"step": "llm", "reason": skip}, held=True)
        return LlmOutcome(skipped_reason=skip)
    detail = {"step": "llm", "modelId": run.model_id} if wording.with_model_detail else {"step": "llm"}
    control.event("step_started", f"llm: {wording.doing} with {run.model_id}", detail)
    try:
        result = call()
    except llm.LlmCancelled:
        stop = control.stop_requested()
        if stop is None or stop[0] not in LLM_STOP_KEEPS_REPORT:
            raise
        note = _llm_stop_note(*stop, run.time_limit_seconds)
        _save_llm(control, ran=False, degraded=True, error=note, result=None)
        control.event("llm_stopped", f"LLM pass {note}; {wording.instead_after_stop}",
                      {"step": "llm", "status": stop[0], "reason": stop[1]})
        return LlmOutcome(error=note, stopped=stop)
    except llm.LlmError as error:
        failure = _llm_error_text(error)
        _save_llm(control, ran=False, degraded=True, error=failure, result=None)
        control.event("llm_failed", f"LLM pass failed, {wording.instead_after_failure}: {failure}",
                      {"step": "llm", "error": failure})
        return LlmOutcome(error=failure)
    _save_llm(control, ran=True, degraded=False, error=None, result=result)
    return LlmOutcome(result=result)


def _llm_error_text(error: llm.LlmError) -> str:
    """The failure as `llm.error`, the report and the status reason word it: what happened, then what to do."""
    return f"{error.message}; {error.hint}" if error.hint else error.message


def _llm_stop_note(status: str, reason: str, time_limit_seconds: int) -> str:
    """Why the LLM pass stopped early, as the report and `run get` word it."""
    if status == "timed_out":
        return f"stopped at the run's time limit of {minutes(time_limit_seconds)}"
    return f"stopped because the run was cancelled: {reason}"


def _save_llm(control: RunControl, *, ran: bool, degraded: bool, error: str | None,
              result: llm.LlmResult | None) -> None:
    with control.writing() as connection:
        connection.execute(sql_text("runs/save_llm.sql"), {
            "run_id": control.run_id, "llm_ran": ran, "degraded": degraded, "llm_error": error,
            "input_tokens": result.input_tokens if result else None,
            "output_tokens": result.output_tokens if result else None,
            "cache_read_tokens": result.cache_read_tokens if result else None,
            "cache_write_tokens": result.cache_write_tokens if result else None,
            "cost_usd": result.cost_usd if result else None, "turns": result.turns if result else None,
            "invented_ids_removed": result.invented_ids_removed if result else None,
            "llm_result": json.dumps(llm_result_json(result), default=str) if result is not None else None,
        })


def llm_result_json(result: llm.LlmResult) -> dict[str, Any]:
    """The LLM's summary and notes as stored on the run (camelCase)."""
    return {"summary": result.summary, "notes": [note.to_json() for note in result.notes]}


# ---------------------------------------------------------------------------------------------
# Ending a run


def _complete(control: RunControl, run: RunRecord, markdown: str, report_path: Path | None,
              reason: str | None, *, status: str = "completed") -> str:
    """End the run (`completed`, or `cancelled`/`timed_out` with the heuristics report) and add the
    assistant message, in one transaction; a run ended meanwhile stays as it ended."""
    at = utc_now()
    with control.writing() as connection:
        ended = finish(connection, control.run_id, status, reason, at)
        if ended:
            conversations.add_message(connection, run.conversation_id, "assistant", markdown, control.run_id, at)
            connection.execute(sql_text("runs/save_report_path.sql"),
                               {"path": str(report_path) if report_path else None, "run_id": control.run_id})
    if not ended:
        return status_of(control.store, control.run_id)
    if control.on_event is not None:
        message = f"{status}: {reason}" if reason else status
        control.on_event(RunEvent(None, iso(at), status, message, {}))
    return status


def _write_html(control: RunControl, run: RunRecord, dataset: snapshot.Dataset,
                findings: list[heuristics.Finding], comparison: changes.Changes,
                result: llm.LlmResult | None) -> tuple[str, str, dict[str, Any]]:
    """report.html beside report.md, and the event that says so (recorded after report.md's). The markdown
    report is the run's product: a page that cannot be drawn is an event (`run report RUN_ID` draws it
    again later), not a failed run."""
    facts = html_report.PageRun(
        run_id=run.run_id, agent_name=run.agent_name, agent_uuid=run.agent_uuid,
        window_start=iso(run.window_start), window_end=iso(run.window_end),
        spans=dataset.snapshot_spans, traces=dataset.snapshot_traces, truncated=dataset.truncated)
    path = control.store.runs_dir / control.run_id / html_report.HTML_FILE
    try:
        html_report.write_html(path, snapshot=dataset.snapshot, run=facts, findings=findings, changes=comparison,
                               llm_summary=result.summary if result is not None else None)
    except Exception as error:  # noqa: BLE001 - the markdown report stands; say why the page is missing
        return ("html_failed", f"report.html: not written ({describe_exception(error)})",
                {"step": "report", "error": describe_exception(error)})
    return "step_finished", f"report.html: {path.stat().st_size:,} bytes", {"step": "report", "path": str(path)}


def _report_run_facts(run: RunRecord, dataset: snapshot.Dataset) -> report.ReportRun:
    return report.ReportRun(
        run_id=run.run_id, agent_uuid=run.agent_uuid, agent_name=run.agent_name, window_start=run.window_start,
        window_end=run.window_end, prompt=run.prompt, model_id=run.model_id, span_limit=run.span_limit,
        snapshot_spans=dataset.snapshot_spans, snapshot_traces=dataset.snapshot_traces,
        window_spans=dataset.window_spans, window_traces=dataset.window_traces,
        previous_spans=dataset.previous_spans, source=run.source,
    )


def _report_sections(store: Store, run: RunRecord, run_dir: Path,
                     reader: duckdb.DuckDBPyConnection) -> report.ReportSections:
    """The report's measured sections, read through `reader` (closed after); the link hosts only when the
    LLM step will run (the same test `_llm_step` makes)."""
    try:
        return report.collect_sections(reader, _window_overview(store, run, run_dir),
                                       for_llm_text=llm.llm_skip_reason(bool(run.no_llm)) is None)
    finally:
        reader.close()


def _window_overview(store: Store, run: RunRecord, run_dir: Path) -> dict[str, Any]:
    """The run's window-wide overview: the one the cluster counted when the run was created over a
    ClickHouse source, else counted now over every stored span of the window."""
    recorded = source_overview(run_dir) if run.source else None
    if recorded is not None:
        return recorded
    with store.connect() as connection:
        return local_overview(connection, agent_uuid=run.agent_uuid, window_start=run.window_start,
                              window_end=run.window_end)
