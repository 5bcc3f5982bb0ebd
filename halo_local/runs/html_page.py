"""A run's report.html on demand (`run report`, `conversation get --html`): the page the run wrote,
or, for a run made before pages existed or whose page is gone, drawn now from its snapshot."""

from __future__ import annotations

import json
from pathlib import Path

from halo_local import html_report
from halo_local.errors import HaloLocalError, NotFoundError
from halo_local.runs.documents import get_run
from halo_local.runs.rows import ACTIVE_STATES, run_row
from halo_local.store import Store


def report_html(store: Store, run_id: str) -> Path:
    """The path of the run's report.html, written first when missing. A follow-up's page is that of its
    analysis run; a run without a report (queued, running, no_traces, failed) is an error saying why."""
    run = get_run(store, run_id)
    if run.kind != "analysis" and run.parent_run_id:
        run = get_run(store, run.parent_run_id)
    if not run.report_path:
        why = f": {run.status_reason}" if run.status_reason else ""
        hint = (f"`halo-local run poll {run.run_id}` waits for it to end"
                if run.status in ACTIVE_STATES else "`halo-local run create` starts a new analysis")
        raise HaloLocalError(f"run {run.run_id} has no report: it is {run.status}{why}", hint=hint)
    path = Path(run.report_path).with_name(html_report.HTML_FILE)
    if path.is_file():
        return path
    snapshot = Path(run.trace_dataset.path or "")
    if not snapshot.is_file():
        raise NotFoundError(f"report.html of run {run.run_id} cannot be drawn: its snapshot {snapshot} is gone",
                            hint="`halo-local run create` with the same window analyses the spans again")
    stored = run_row(store, run.run_id)["llm_result"]
    summary = json.loads(stored).get("summary") if stored else None
    return html_report.write_html(path, **html_report.run_page(run, llm_summary=summary))
