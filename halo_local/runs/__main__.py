"""Worker entry point: `python -m halo_local.runs RUN_ID`, started detached by `start_worker`."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from halo_local.common.timestamps import utc_now
from halo_local.runs.control import describe_exception
from halo_local.runs.pipeline import execute_run
from halo_local.runs.rows import finish, writing
from halo_local.store import Store

log = logging.getLogger("halo_local.runs")


def worker_main(argv: Sequence[str]) -> int:
    """Execute one queued run; logs go to the run's worker.log."""
    if len(argv) != 1:
        sys.stderr.write("usage: python -m halo_local.runs RUN_ID\n")
        return 2
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(message)s")
    try:
        status = execute_run(Store(), argv[0])
    except Exception as error:  # recorded as the run's statusReason, not left for "process is gone"
        log.exception("worker for run %s died", argv[0])
        _record_death(Store(), argv[0], error)
        return 1
    log.info("run %s ended %s", argv[0], status)
    return 0


def _record_death(store: Store, run_id: str, error: Exception) -> None:
    """End the run failed with the exception that killed its worker; when even that fails (disk full, a
    damaged database), the traceback in worker.log is what the next reader's reaper reports."""
    try:
        with writing(store) as connection:
            finish(connection, run_id, "failed", f"worker died of {describe_exception(error)}", utc_now())
    except Exception:
        log.exception("could not record the failure of run %s", run_id)


if __name__ == "__main__":
    sys.exit(worker_main(sys.argv[1:]))
