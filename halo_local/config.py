"""Thresholds of the heuristics: defaults here, overridable per home and per run.

Precedence, lowest first: the defaults below, `$HALO_HOME/heuristics.toml`, then the run's options.
The TOML file takes the field names as flat keys (`loop_min_repeats = 4`) or grouped under a table
named after their prefix (`[loop]` then `min_repeats = 4`). Every threshold is a number >= 0;
those ending in `_share` or `_rate` are fractions in [0, 1].
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from halo_local.errors import HaloLocalError, UsageError

THRESHOLDS_FILE = "heuristics.toml"


@dataclass(frozen=True)
class Thresholds:
    """Every number a detector compares against; the SQL reads each one as `$field_name`."""

    # Failures (error, tool_error, rate_limit, timeout, unknown_tool).
    failure_high_trace_share: float = 0.10  # failing >= this share of the window's traces: high
    failure_high_rate: float = 0.50  # a subject failing >= this share of its calls: high ...
    failure_min_spans: int = 3  # ... once at least this many of its spans failed
    failure_medium_rate: float = 0.05  # a subject failing >= this share of its calls: medium

    # Latency.
    latency_min_samples: int = 5  # spans of a subject needed before it has a baseline
    latency_outlier_mad: float = 5.0  # robust z-score (MADs above the median) of an outlier
    latency_outlier_min_ratio: float = 2.0  # an outlier also takes >= this multiple of the median
    latency_outlier_min_excess_ms: float = 1000.0  # ... and at least this much longer than it
    latency_medium_seconds: float = 60.0  # excess seconds over the median that make it medium
    latency_high_seconds: float = 1800.0  # ... and high
    latency_dominant_share: float = 0.5  # a non-model subject taking this share of wall time
    latency_regression_ratio: float = 1.5  # p95 this many times the previous window's p95
    latency_regression_min_excess_ms: float = 500.0  # ... and at least this much slower

    # Cost.
    cost_min_traces: int = 5  # priced traces needed before the median trace cost is a baseline
    cost_outlier_ratio: float = 3.0  # a trace costing this multiple of the median trace
    cost_outlier_min_excess_usd: float = 0.01  # ... and at least this much more
    cost_medium_usd: float = 0.10  # extra dollars that make a cost finding medium
    cost_high_usd: float = 10.0  # ... and high
    cost_model_ratio: float = 3.0  # a model costing this multiple per call of a cheaper one at the same call site
    cost_model_min_calls: int = 3  # calls each model needs at that call site
    cost_regression_ratio: float = 1.5  # mean trace cost this many times the previous window's
    context_growth_min_turns: int = 5  # model calls in a trace before growth is judged
    context_growth_ratio: float = 3.0  # last call's input tokens over the first call's
    context_growth_min_tokens: int = 20000  # the last call must read at least this many tokens
    context_growth_monotone_share: float = 0.8  # share of turns whose input grew

    # Loops.
    loop_min_repeats: int = 3  # identical tool calls (or model outputs) in one trace
    loop_high_repeats: int = 10  # repeats in one trace that make it high
    loop_output_min_chars: int = 10  # model outputs shorter than this are not compared
    loop_boilerplate_trace_share: float = 0.5  # an output in this share of the traces is boilerplate ...
    loop_boilerplate_min_traces: int = 3  # ... once the window holds this many traces

    # Output problems (truncation, refusal, empty_output): share of the agent's model calls.
    output_medium_share: float = 0.05
    output_high_share: float = 0.25
    output_min_spans: int = 3  # spans needed for medium or high

    # Excessive steps.
    steps_min_traces: int = 5  # traces needed before the median is a baseline
    steps_ratio: float = 3.0  # steps this multiple of the median trace ...
    steps_min_extra: int = 5  # ... and at least this many more
    steps_max_llm_calls: int = 50  # model calls in one trace flagged even without a baseline
    steps_max_tool_calls: int = 100  # tool calls in one trace flagged even without a baseline

    # Assumed data.
    assumed_data_medium_traces: int = 2  # traces where an agent works from made-up data: medium

    # Data quality.
    clock_skew_tolerance_ms: float = 10.0  # a child may stick out of its parent by this much
    data_quality_medium_share: float = 0.05  # share of spans affected that makes it medium
    unpriced_medium_share: float = 0.5  # share of usage-bearing spans unpriced that makes it medium

    # How traces end, and the detectors of failure without an error status (stall, gave_up,
    # incapability, refused_retry, long_run): severity follows how many traces end badly.
    outcome_min_message_chars: int = 10  # a final model message shorter than this is a control word
    outcome_min_traces: int = 3  # traces a finding needs before it can be high ...
    outcome_high_bad_share: float = 0.5  # ... when this share of them ended badly
    retry_similarity: float = 0.8  # arguments this similar (1 - edits / length) make a call near-same
    long_run_min_traces: int = 10  # traces needed before the agent has a norm
    long_run_percentile: float = 0.95  # a long run is above this percentile ...
    long_run_mad: float = 3.0  # ... and more than this many MADs above the median ...
    long_run_min_ratio: float = 1.5  # ... and at least this multiple of the median

    def as_parameters(self) -> dict[str, float | int]:
        """The thresholds as DuckDB named parameters (`$field_name`)."""
        return dataclasses.asdict(self)


_FIELDS = {item.name: item for item in fields(Thresholds)}


def load_thresholds(home: Path | None, overrides: Mapping[str, Any] | None = None) -> Thresholds:
    """Defaults, then `home/heuristics.toml` when it exists (no file is read when home is None),
    then `overrides` (the run's options). Unknown names and bad values raise HaloLocalError (UsageError
    for `overrides`)."""
    values: dict[str, Any] = {}  # each name checked by _known_name, each value coerced to its field's type
    if home is not None:
        path = Path(home) / THRESHOLDS_FILE
        if path.is_file():
            values.update(_read_file(path))
    for name, raw in (overrides or {}).items():
        try:
            known = _known_name(name, source="--thresholds")
            values[known] = _coerce(known, raw, source="--thresholds")
        except HaloLocalError as error:  # the run's options come from a command line: a usage mistake
            raise UsageError(error.message, hint=error.hint) from None
    return Thresholds(**values)


def _read_file(path: Path) -> dict[str, float | int]:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise HaloLocalError(f"{path}: not valid TOML ({error})", hint="fix the file or remove it") from error
    values: dict[str, float | int] = {}
    for key, raw in document.items():
        if isinstance(raw, dict):
            for inner_key, inner_raw in raw.items():
                grouped = f"{key}_{inner_key}"
                name = _known_name(grouped if grouped in _FIELDS else inner_key, source=str(path),
                                   shown=f"{key}.{inner_key}")
                values[name] = _coerce(name, inner_raw, source=str(path))
        else:
            name = _known_name(key, source=str(path))
            values[name] = _coerce(name, raw, source=str(path))
    return values


def _known_name(name: str, *, source: str, shown: str | None = None) -> str:
    if name in _FIELDS:
        return name
    close = difflib.get_close_matches(name, list(_FIELDS), n=1)
    hint = f"did you mean {close[0]!r}?" if close else "see halo_local/config.py for the threshold names"
    raise HaloLocalError(f"{source}: unknown heuristics threshold {shown or name!r}", hint=hint)


def _coerce(name: str, raw: Any, *, source: str) -> float | int:
    """A threshold value of the field's type; numeric strings (from a command line) are accepted."""
    wanted = _FIELDS[name].type
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise HaloLocalError(f"{source}: threshold {name!r} must be a number, not {raw!r}")
    try:
        number = float(raw)
    except ValueError as error:
        raise HaloLocalError(f"{source}: threshold {name!r} must be a number, not {raw!r}") from error
    if not math.isfinite(number) or number < 0:
        raise HaloLocalError(f"{source}: threshold {name!r} must be a finite number >= 0, not {raw!r}")
    if name.endswith(("_share", "_rate")) and number > 1:
        raise HaloLocalError(f"{source}: threshold {name!r} is a fraction between 0 and 1, not {raw!r}")
    if wanted in (int, "int"):
        if not number.is_integer():
            raise HaloLocalError(f"{source}: threshold {name!r} must be a whole number, not {raw!r}")
        return int(number)
    return number
