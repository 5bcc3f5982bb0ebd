"""`--output FILE`: a command's text written to a file instead of stdout (`analyze`, `conversation get`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from halo_local import untrusted
from halo_local.cli.output import Output
from halo_local.errors import HaloLocalError
from halo_local.flags import parse_text


def write_output(output: Output, path: Any, *, has_report: bool) -> Output:
    """Write `output.text` to `path` when given; stdout then only says where (--json: the document
    with `outputPath`). Without a report nothing is written, so no file holds a status line instead."""
    target = parse_text(path)
    if target is None or not has_report:
        return output
    file = Path(target).expanduser()
    try:
        file.write_text(untrusted.terminal_text(output.text) + "\n", encoding="utf-8")
    except OSError as error:
        raise HaloLocalError(f"cannot write --output {file}: {error.strerror or error}",
                             hint="name a file in a folder that exists and that you can write") from None
    data = {**output.data, "outputPath": str(file)} if isinstance(output.data, dict) else output.data
    return Output(data, f"Wrote {file}", output.exit_code)
