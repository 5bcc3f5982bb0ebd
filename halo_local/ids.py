"""Short id prefixes: `run get run_3f2` or `trace get 9c1e` when the prefix names one stored id."""

from __future__ import annotations

from typing import Any

from halo_local.errors import UsageError
from halo_local.resources import sql_template
from halo_local.store import Store

# kind -> (table, column, how the CLI lists them): the only tables and columns the template can name.
ID_COLUMNS = {
    "run": ("runs", "run_id", "halo-local run list"),
    "conversation": ("conversations", "conversation_id", "halo-local conversation list"),
    "schedule": ("schedules", "schedule_id", "halo-local schedule list --include-archived"),
    "trace": ("spans", "trace_id", "halo-local trace list --time-range all"),
    "span": ("spans", "span_id", "halo-local span list --trace-id TRACE_ID"),
}
_CANDIDATES_SHOWN = 10


def full_id(store: Store, kind: str, given: Any) -> str:
    """The one stored `kind` id that `given` is, or starts; `given` unchanged when none matches, so the
    caller's own not-found error applies. An ambiguous prefix is a UsageError listing the candidates."""
    wanted = str(given).strip()
    if kind in ("trace", "span"):
        wanted = wanted.lower()  # hex ids are stored lowercase
    if not wanted:
        return wanted
    table, column, listing = ID_COLUMNS[kind]
    with store.connect() as connection:
        rows = connection.execute(sql_template("ids/matching.sql", table=table, column=column),
                                  {"prefix": wanted, "row_limit": _CANDIDATES_SHOWN + 1}).fetchall()
    if not rows:
        return wanted
    if rows[0][1] or len(rows) == 1:
        return str(rows[0][0])
    shown = ", ".join(str(row[0]) for row in rows[:_CANDIDATES_SHOWN])
    more = " and more" if len(rows) > _CANDIDATES_SHOWN else ""
    raise UsageError(f"{kind} id prefix {wanted!r} is ambiguous: it starts {shown}{more}",
                     hint=f"give more characters of the id (`{listing}` lists them)")
