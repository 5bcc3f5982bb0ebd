"""`halo-local serve` as the CLI runs it: signals, the listening notice, the live count on a terminal."""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType
from typing import Any

from halo_local.serve.receiver import Receiver, ReceiverOptions, serve_until_stopped
from halo_local.store import Store


def serve(store: Store, options: ReceiverOptions, *, json_mode: bool) -> tuple[dict[str, Any], str]:
    """Serve until SIGTERM or SIGINT; returns the final status document and its text."""
    receiver = Receiver(store, options)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {number: signal.signal(number, request_stop) for number in (signal.SIGTERM, signal.SIGINT)}
    notice = (f"Listening on {receiver.url} (POST /v1/traces, GET /healthz); storing into {store.home}\n"
              f"Point exporters at it: OTEL_EXPORTER_OTLP_ENDPOINT={receiver.url}. Ctrl-C stops.")
    # Under --json, stdout holds only the final document: the notice goes to stderr.
    print(notice, file=sys.stderr if json_mode else sys.stdout, flush=True)
    live = sys.stderr.isatty() and not json_mode
    try:
        status = serve_until_stopped(receiver, stop, on_tick=_show_live if live else None)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    if live:
        sys.stderr.write("\n")
    text = (f"Stopped. Spans received: {status['spansReceived']:,} (rejected {status['spansRejected']:,}), "
            f"stored: {status['spansStored']:,}")
    if status["spoolBacklogBytes"]:
        text += f"; {status['spoolBacklogBytes']:,} bytes wait in the spool and are stored at the next start"
    return status, text


def _show_live(status: dict[str, Any]) -> None:
    sys.stderr.write(f"\rSpans received: {status['spansReceived']:,}  stored: {status['spansStored']:,}  "
                     f"rejected: {status['spansRejected']:,}  ")
    sys.stderr.flush()
