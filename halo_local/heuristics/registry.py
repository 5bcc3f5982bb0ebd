"""The registry of detectors: one entry per category, in ranking-tie order.

Adding a detector is one SQL file (`sql/heuristics/<category>.sql`, returning the findings shape)
plus one `Detector` entry below, plus the thresholds it reads (fields of `config.Thresholds`, named
in `thresholds` so a test can check they exist), plus its guidance template. `CATEGORIES`, the
scope of each check ("checked and healthy" notes), the report's guidance and the words a follow-up
question is matched with all derive from this list.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from halo_local.resources import resource_dir

__all__ = ["CATEGORIES", "DETECTORS", "Detector", "detector", "detector_files"]


@dataclass(frozen=True)
class Detector:
    """What the rest of the product needs to know about one detector.

    `counter` names a column of `_coverage.sql` (what the check examines); `unit` / `singular` say
    what it counts; `healthy` is what a clean check means; `missing` names exactly what the counter
    needs when it is 0 (a window can hold model calls and still none that this check can read).
    `guidance` is the template (under prompts/) with the macros `likely_cause(f)` and `fix(f)`.
    `words` are the question words that point at this category in a follow-up. `fix_kind` is who
    must change when the detector does not say (detail.fixTarget): agent, tool, model,
    infrastructure, instrumentation, or `subject` (the subject's own: a tool, a model, else the agent).
    """

    category: str
    counter: str
    unit: str
    singular: str
    healthy: str
    missing: str
    thresholds: tuple[str, ...]
    words: tuple[str, ...]
    fix_kind: str = "agent"

    @property
    def sql_file(self) -> Path:
        return resource_dir("sql") / "heuristics" / f"{self.category}.sql"

    @property
    def guidance(self) -> str:
        return f"report/guidance/{self.category}.md.j2"


_FAILURE_THRESHOLDS = ("failure_high_trace_share", "failure_high_rate", "failure_min_spans", "failure_medium_rate")
_OUTPUT_THRESHOLDS = ("output_medium_share", "output_high_share", "output_min_spans")
_OUTCOME_THRESHOLDS = ("outcome_min_message_chars", "outcome_min_traces", "outcome_high_bad_share",
                       "failure_high_trace_share")

DETECTORS: tuple[Detector, ...] = (
    Detector(
        "error", "spans", "spans", "span", "no span failed outside rate limits, timeouts and missing tools",
        "the window has no spans", _FAILURE_THRESHOLDS,
        ("error", "errors", "fail", "fails", "failed", "failing", "failure", "failures", "exception",
         "exceptions", "crash", "crashes", "broken", "bug", "bugs", "wrong"),
        fix_kind="tool",
    ),
    Detector(
        "tool_error", "tool_results", "tool results", "tool result", "no tool result reported a failure",
        "no tool call records its result", _FAILURE_THRESHOLDS,
        ("tool", "tools", "error", "errors", "fail", "failing", "failure", "failures"),
        fix_kind="tool",
    ),
    Detector(
        "rate_limit", "spans", "spans", "span", "no call was rate limited", "the window has no spans",
        _FAILURE_THRESHOLDS,
        ("rate", "limit", "limits", "429", "throttle", "throttled", "throttling", "quota", "overloaded"),
        fix_kind="infrastructure",
    ),
    Detector(
        "timeout", "spans", "spans", "span", "no call timed out", "the window has no spans", _FAILURE_THRESHOLDS,
        ("timeout", "timeouts", "timed", "hang", "hangs", "slow"),
        fix_kind="infrastructure",
    ),
    Detector(
        "latency", "finished_spans", "spans", "span", "no latency outliers, dominant subjects or regressions",
        "no span has an end time to measure its duration",
        ("latency_min_samples", "latency_outlier_mad", "latency_outlier_min_ratio", "latency_outlier_min_excess_ms",
         "latency_medium_seconds", "latency_high_seconds", "latency_dominant_share", "latency_regression_ratio",
         "latency_regression_min_excess_ms"),
        ("slow", "slower", "latency", "fast", "faster", "speed", "time", "seconds", "p95", "wait", "duration"),
        fix_kind="subject",
    ),
    Detector(
        "cost", "usage_spans", "model calls with usage", "model call with usage",
        "no costly outliers, model mismatches, context growth or regressions", "no model call reports token usage",
        ("cost_min_traces", "cost_outlier_ratio", "cost_outlier_min_excess_usd", "cost_medium_usd", "cost_high_usd",
         "cost_model_ratio", "cost_model_min_calls", "cost_regression_ratio", "context_growth_min_turns",
         "context_growth_ratio", "context_growth_min_tokens", "context_growth_monotone_share"),
        ("cost", "costs", "expensive", "money", "price", "spend", "spending", "dollar", "dollars", "usd",
         "token", "tokens", "cheap", "cheaper", "budget", "bill"),
    ),
    Detector(
        "loop", "loop_candidates", "tool calls and model outputs", "tool call or model output",
        "no repeated identical calls or outputs",
        "no tool call records its arguments and no model call its output text",
        ("loop_min_repeats", "loop_high_repeats", "loop_output_min_chars", "loop_boilerplate_trace_share",
         "loop_boilerplate_min_traces"),
        ("loop", "loops", "looping", "repeat", "repeats", "repeated", "stuck", "again", "retry", "retries"),
    ),
    Detector(
        "unknown_tool", "tool_calls", "tool calls", "tool call", "every tool called was declared and found",
        "the window has no tool calls", _FAILURE_THRESHOLDS,
        ("tool", "tools", "unknown", "undeclared", "missing", "hallucinated"),
    ),
    Detector(
        "truncation", "llm_with_finish_reason", "model calls with a finish reason", "model call with a finish reason",
        "no output was cut off", "no model call reports a finish reason", _OUTPUT_THRESHOLDS,
        ("truncated", "truncation", "cut", "length", "max_tokens"),
    ),
    Detector(
        "refusal", "llm_with_finish_or_output", "model calls", "model call", "no call was refused or filtered",
        "no model call reports a finish reason or output text", _OUTPUT_THRESHOLDS,
        ("refusal", "refuse", "refuses", "refused", "filter", "blocked"),
    ),
    Detector(
        "empty_output", "llm_calls", "model calls", "model call", "no call returned an empty output",
        "the window has no model calls", _OUTPUT_THRESHOLDS,
        ("empty", "blank", "nothing", "output"),
    ),
    Detector(
        "excessive_steps", "traces", "traces", "trace", "no trace took far more steps than usual",
        "the window has no traces",
        ("steps_min_traces", "steps_ratio", "steps_min_extra", "steps_max_llm_calls", "steps_max_tool_calls"),
        ("steps", "turns", "many", "too", "excessive", "calls"),
    ),
    Detector(
        "refused_retry", "tool_calls", "tool calls", "tool call",
        "no tool call was sent again after the tool refused it", "the window has no tool calls",
        (*_OUTCOME_THRESHOLDS, "retry_similarity"),
        ("refused", "rejected", "again", "resend", "resent", "retry", "retries", "ignored"),
    ),
    Detector(
        "gave_up", "traces", "traces", "trace", "no trace ended in a hand-off, an escalation or a give-up",
        "the window has no traces", _OUTCOME_THRESHOLDS,
        ("gave", "give", "handoff", "hand-off", "escalate", "escalation", "transfer", "human", "declined"),
    ),
    Detector(
        "incapability", "llm_with_output", "model calls with output text", "model call with output text",
        "no model claimed it could not do what one of the agent's tools does",
        "no model call records its output text", _OUTCOME_THRESHOLDS,
        ("cannot", "can't", "unable", "access", "capability", "claims", "claimed"),
    ),
    Detector(
        "stall", "traces", "traces", "trace", "no stall or replan marker in the outputs",
        "the window has no traces", _OUTCOME_THRESHOLDS,
        ("stall", "stalled", "stalls", "replan", "replanning", "progress", "stuck"),
    ),
    Detector(
        "long_run", "traces", "traces", "trace", "no trace ran far longer than the agent's norm",
        "the window has no traces",
        (*_OUTCOME_THRESHOLDS, "long_run_min_traces", "long_run_percentile", "long_run_mad", "long_run_min_ratio"),
        ("long", "longer", "longest", "duration", "outlier", "norm"),
    ),
    Detector(
        "assumed_data", "llm_with_output", "model calls with output text", "model call with output text",
        "no model call says it works from assumed or made-up data", "no model call records its output text",
        ("assumed_data_medium_traces",),
        ("assume", "assumed", "assumption", "hypothetical", "simulated", "placeholder", "made", "fake", "invented"),
    ),
    Detector(
        "unsupported_claim", "llm_with_output", "model calls with output text", "model call with output text",
        "no model call stated a figure or name that no input, tool result or earlier message gave",
        "no model call records its output text", (),
        ("claim", "claims", "fact", "facts", "unsupported", "unverified", "hallucinated", "fabricated", "source"),
    ),
    Detector(
        "data_quality", "spans", "spans", "span",
        "no orphans, unfinished spans, unpriced usage, clock skew or usage outside model calls",
        "the window has no spans",
        ("clock_skew_tolerance_ms", "data_quality_medium_share", "unpriced_medium_share"),
        ("data", "quality", "orphan", "orphans", "clock", "skew", "unfinished", "unpriced"),
        fix_kind="instrumentation",
    ),
)

CATEGORIES: tuple[str, ...] = tuple(item.category for item in DETECTORS)
_BY_CATEGORY = {item.category: item for item in DETECTORS}


def detector(category: str) -> Detector:
    """The registry entry of `category` (KeyError for a category no detector reports)."""
    return _BY_CATEGORY[category]


def detector_files() -> dict[str, Path]:
    """The detector of each category, `sql/heuristics/<category>.sql`."""
    return {item.category: item.sql_file for item in DETECTORS}
