"""Helpers of the CLI run tests (test_cli_runs, test_cli_run_workers, test_cli_run_traces): halo-local in
a real process on a given home, and the `Label   value` lines of `run get`'s human output."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runs_support import HALO_WINDOW


def cli_env(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without any Anthropic setting, with HALO_HOME at `home`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANTHROPIC_")}
    env.update({"HALO_HOME": str(home)})
    env.update(extra or {})
    return env


def run_cli(*args: str, home: Path, env: Mapping[str, str] | None = None,
            timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "halo_local.cli", *args], capture_output=True, text=True,
                          env=cli_env(home, env), timeout=timeout)


def run_json(*args: str, home: Path, env: Mapping[str, str] | None = None, code: int = 0) -> Any:
    done = run_cli(*args, "--json", home=home, env=env)
    assert done.returncode == code, (done.returncode, done.stdout, done.stderr)
    return json.loads(done.stdout)


def window_args(agent: str) -> list[str]:
    """The flags that put a run over the whole day of HALO's capture."""
    return ["--agent-uuid", agent, "--window-start-at", HALO_WINDOW[0], "--window-end-at", HALO_WINDOW[1]]


def run_get_details(text: str) -> dict[str, str]:
    """The `Label   value` lines of `run get`'s human output."""
    pairs = (re.split(r"\s{2,}", line, maxsplit=1) for line in text.splitlines() if "  " in line)
    return {pair[0]: pair[1] for pair in pairs if len(pair) == 2}
