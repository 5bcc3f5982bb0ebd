"""Analysis runs: create, execute (detached worker or foreground), watch, cancel, reap.

A run snapshots one agent's spans in a time window to Parquet under `$HALO_HOME/runs/RUN_ID/`,
runs the heuristics (and, when allowed, the LLM pass) on that snapshot in an in-memory DuckDB,
renders the report and adds it to the run's conversation. The worker touches `halo.duckdb` only in
short transactions (status, heartbeat, events), so `poll`, `events`, `traces load` and other runs
keep working while an analysis is under way.

States: queued → running → completed | failed | cancelled | timed_out | no_traces.
A worker that dies stops its heartbeat; whichever command next reads the run marks it failed.

`run poll` exit codes (`POLL_EXIT_CODES`): 0 completed, 3 failed, 4 cancelled, 5 timed_out,
6 no_traces, 7 poll's own --timeout reached (1 and 2 stay the CLI's error and usage codes).
`run create --wait`, `conversation ask` and `analyze` end with the same codes.

Where each concern lives: `options` (defaults, limits, the window), `rows` (states and the shared
row writes), `lifecycle` (create, poll, cancel), `documents` (the JSON read side), `worker`
(detached processes, liveness, reaping), `control` (heartbeat, cancellation, time limit while a
run executes), `snapshot` (the Parquet trace dataset), `pipeline` (executing a run, one LLM step),
`html_page` (report.html on demand), `run_document` (a run as its readers see it: `RunDocument`). `python -m halo_local.runs RUN_ID` is the worker's entry point
(`__main__`).
"""

from halo_local.common.timestamps import iso, parse_timestamp
from halo_local.runs.documents import get_run, list_runs, run_document, run_events
from halo_local.runs.html_page import report_html
from halo_local.runs.lifecycle import cancel_run, create_followup_run, create_run, poll_run
from halo_local.runs.options import (
    DEFAULT_CANCEL_REASON,
    DEFAULT_LOOKBACK_HOURS,
    DEFAULT_MAX_SUBAGENT_DEPTH,
    DEFAULT_MAX_TURNS,
    DEFAULT_PROMPT,
    DEFAULT_SPAN_LIMIT,
    DEFAULT_TIME_LIMIT_SECONDS,
    DEFAULTS,
    MAX_LOOKBACK_HOURS,
    MAX_SPAN_LIMIT,
    IntBound,
    RunOptions,
    resolve_window,
)
from halo_local.runs.pipeline import execute_run
from halo_local.runs.rows import (
    ACTIVE_STATES,
    POLL_EXIT_CODES,
    POLL_TIMEOUT_EXIT_CODE,
    PREVIOUS_FILE,
    REPORT_FILE,
    SNAPSHOT_FILE,
    STATES,
    TERMINAL_STATES,
    WORKER_LOG,
)
from halo_local.runs.run_document import OnEvent, RunDocument, RunEvent
from halo_local.runs.worker import process_alive, reap_stale_runs, start_worker

__all__ = [
    "ACTIVE_STATES",
    "DEFAULTS",
    "DEFAULT_CANCEL_REASON",
    "DEFAULT_LOOKBACK_HOURS",
    "DEFAULT_MAX_SUBAGENT_DEPTH",
    "DEFAULT_MAX_TURNS",
    "DEFAULT_PROMPT",
    "DEFAULT_SPAN_LIMIT",
    "DEFAULT_TIME_LIMIT_SECONDS",
    "MAX_LOOKBACK_HOURS",
    "MAX_SPAN_LIMIT",
    "POLL_EXIT_CODES",
    "POLL_TIMEOUT_EXIT_CODE",
    "PREVIOUS_FILE",
    "REPORT_FILE",
    "SNAPSHOT_FILE",
    "STATES",
    "TERMINAL_STATES",
    "WORKER_LOG",
    "IntBound",
    "OnEvent",
    "RunDocument",
    "RunEvent",
    "RunOptions",
    "cancel_run",
    "create_followup_run",
    "create_run",
    "execute_run",
    "get_run",
    "iso",
    "list_runs",
    "parse_timestamp",
    "poll_run",
    "process_alive",
    "reap_stale_runs",
    "report_html",
    "resolve_window",
    "run_document",
    "run_events",
    "start_worker",
]
