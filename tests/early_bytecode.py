"""A pytest plugin loaded before the installed ones (`-p early_bytecode` in pyproject's addopts): pytest
rewrites the asserts of every installed plugin's modules (hypothesis, anyio, xdist, ...: ~140 of them) as it
imports them, and with PYTHONDONTWRITEBYTECODE set it kept no copy, so each pytest process, the controller
and every xdist worker, rewrote them again: ~0.75 CPU-s each. conftest.py comes too late for them."""

import sys

sys.dont_write_bytecode = False
