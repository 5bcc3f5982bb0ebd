"""`prune --older-than 30d`: free the space of old spans and of finished runs' files.

Conversations and run rows stay (their reports remain readable in `conversation get`); what goes
is the spans that ended before the cutoff and each finished run's folder (snapshot, report files,
worker log). DuckDB reuses the freed blocks; a CHECKPOINT then gives space back to the disk.
"""

from __future__ import annotations

import re
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from halo_local.common.timestamps import utc_now
from halo_local.errors import UsageError
from halo_local.resources import sql_text
from halo_local.store import Store

_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def parse_age(text: Any) -> timedelta:
    """`30d`, `12h`, `2w` as a timedelta; a UsageError naming --older-than otherwise."""
    matched = re.fullmatch(r"\s*(\d+)\s*([hdw])\s*", str(text).lower())
    if not matched or int(matched.group(1)) < 1:
        raise UsageError(f"--older-than takes a count of hours, days or weeks (12h, 30d, 2w); got {text!r}")
    return int(matched.group(1)) * _UNITS[matched.group(2)]


def _size(path: Path) -> int:
    return sum(item.stat().st_size for item in path.rglob("*") if item.is_file()) if path.is_dir() else 0


def prune(store: Store, older_than: timedelta, *, dry_run: bool = False, now: datetime | None = None) -> dict[str, Any]:
    """Remove (or with `dry_run` only count) what is older than `older_than`; returns what was freed."""
    cutoff = (now or utc_now()) - older_than
    database_before = store.db_path.stat().st_size if store.db_path.exists() else 0
    with store.connect() as connection:
        spans, trace_count = connection.execute(sql_text("prune/old_spans.sql"), {"cutoff": cutoff}).fetchall()[0]
        run_ids = [str(row[0]) for row in connection.execute(sql_text("prune/finished_runs.sql"), {"cutoff": cutoff})
                   .fetchall()]
    folders = [store.runs_dir / run_id for run_id in run_ids if (store.runs_dir / run_id).is_dir()]
    file_bytes = sum(_size(folder) for folder in folders)
    if not dry_run:
        if spans:
            with store.transaction() as connection:
                connection.execute(sql_text("prune/delete_old_spans.sql"), {"cutoff": cutoff})
            with store.connect() as connection:
                connection.execute(sql_text("prune/checkpoint.sql"))
        for folder in folders:
            shutil.rmtree(folder)
    database_after = store.db_path.stat().st_size if store.db_path.exists() else 0
    return {
        "cutoff": cutoff.strftime("%Y-%m-%dT%H:%M:%SZ"), "dryRun": dry_run, "spans": int(spans),
        "traces": int(trace_count), "runFolders": len(folders), "runFileBytes": file_bytes,
        "databaseBytesBefore": database_before, "databaseBytesAfter": database_after,
    }
