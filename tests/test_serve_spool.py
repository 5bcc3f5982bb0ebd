"""The receiver's spool: what a crash leaves behind is cut back to the acknowledged records."""

from __future__ import annotations

import struct
from pathlib import Path

from serve_support import numbered_request

from halo_local.ingest import load_paths
from halo_local.serve.spool import Spool
from halo_local.store import Store


def test_a_record_torn_by_a_crash_is_cut_off_and_the_rest_loads(tmp_path: Path, store: Store) -> None:
    folder = tmp_path / "spool"
    spool = Spool(folder)
    first, first_ids = numbered_request(0, 4)
    second, _ = numbered_request(1, 4)
    spool.append(first)
    spool.rotate()
    (segment,) = spool.closed_segments()
    # What a kill during the second append leaves: its length and part of its bytes.
    with segment.open("ab") as handle:
        handle.write(struct.pack(">I", len(second)) + second[: len(second) // 2])
    empty_torn = folder / "segment-00000000000000000001-000001.binpb"
    empty_torn.write_bytes(b"\x00\x00")

    reopened = Spool(folder)
    assert not empty_torn.exists()
    assert segment.stat().st_size == 4 + len(first)
    assert reopened.backlog_bytes == 4 + len(first)
    summary = load_paths(store, reopened.closed_segments(), skip_invalid=False)
    assert summary.spans_new == 4
    with store.connect() as connection:
        assert sorted(row[0] for row in connection.execute("SELECT span_id FROM spans").fetchall()) == sorted(first_ids)
    reopened.release(segment)
    assert reopened.backlog_bytes == 0
    reopened.close()
    spool.close()
    assert not list(folder.iterdir())
