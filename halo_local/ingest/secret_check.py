"""The JSON columns' half of each span's secret verdict, made on the one-pass load's parser thread.

A span's verdict (spans.secret_free_under_rules, spans/_redaction.sql) needs `may_hold_secret` over
every text a snapshot redacts. The storing thread sets the one-pass load's pace and the parser thread
has time to spare, so the parser checks the texts it already holds exactly as they will be stored: the
JSON columns (half of a span's text), as the text raw_spans carries to the store's insert. The derived
columns (input_text, agent_name, ...) exist only on the storing thread, which checks them there.
"""

from __future__ import annotations

import functools

import duckdb
import pyarrow as pa

from halo_local import redact
from halo_local.resources import sql_template

JSON_VERDICT = "json_secret_free"
"""raw_spans' column (one-pass only): none of the span's JSON columns may hold a secret."""


def with_json_verdict(parser: duckdb.DuckDBPyConnection, rows: pa.Table) -> pa.Table:
    """`rows` (raw_spans' columns, JSON as text) with JSON_VERDICT appended, in their order."""
    numbered = rows.select(["resource_attributes", "attributes", "events", "links"]).append_column(
        "row_index", pa.array(range(rows.num_rows), pa.int64()))
    parser.register("halo_chunk_json", numbered)
    try:
        try:
            verdicts = parser.sql(_json_check_query()).to_arrow_table()
        except duckdb.CatalogException:  # the first chunk on this database: its macro (2.5 ms) once
            parser.execute(redact.check_macro())
            verdicts = parser.sql(_json_check_query()).to_arrow_table()
    finally:
        parser.unregister("halo_chunk_json")
    return rows.append_column(JSON_VERDICT, verdicts.column(JSON_VERDICT))


@functools.cache
def _json_check_query() -> str:
    return sql_template("ingest/json_secret_free.sql")
