"""RunOptions: the one home of a run's defaults and limits, and where they are enforced."""

from __future__ import annotations

import pytest

from halo_local import llm, runs
from halo_local.errors import UsageError
from halo_local.runs import RunOptions
from halo_local.runs.pipeline import LlmOutcome


def test_defaults_are_the_documented_ones_and_fire_strings_are_converted() -> None:
    options = RunOptions(span_limit="500", max_turns="7", prompt="  ", model_id=None)  # type: ignore[arg-type]
    assert (options.span_limit, options.max_turns) == (500, 7)
    assert options.prompt is None and options.prompt_text == runs.DEFAULT_PROMPT
    assert (runs.DEFAULTS.span_limit, runs.DEFAULTS.max_subagent_depth, runs.DEFAULTS.max_turns,
            runs.DEFAULTS.time_limit_seconds, runs.DEFAULTS.lookback_hours) == (10_000, 3, 50, 1800, None)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("span_limit", 0, "--span-limit takes a number from 1 to 1000000; got 0"),
    ("span_limit", 1_000_001, "--span-limit takes a number from 1 to 1000000; got 1000001"),
    ("max_turns", 101, "--max-turns takes a number from 1 to 100; got 101"),
    ("max_subagent_depth", 6, "--max-subagent-depth takes a number from 1 to 5; got 6"),
    ("lookback_hours", 876_001, "--lookback-hours takes a number from 1 to 876000; got 876001"),
    ("time_limit_seconds", 0, "time_limit_seconds takes a number of at least 1; got 0"),
])
def test_every_bound_is_enforced_when_options_are_made(field: str, value: int, message: str) -> None:
    with pytest.raises(UsageError) as refused:
        RunOptions(**{field: value})
    assert refused.value.message == message


def test_the_agent_loop_and_the_options_share_one_ceiling() -> None:
    assert RunOptions.BOUNDS["max_turns"].maximum == llm.agent.MAX_TURNS_CEILING
    assert RunOptions.BOUNDS["max_subagent_depth"].maximum == llm.agent.MAX_SUBAGENT_DEPTH_CEILING
    assert RunOptions.BOUNDS["lookback_hours"].json_schema() == {"minimum": 1, "maximum": runs.MAX_LOOKBACK_HOURS}


def test_the_llm_step_words_why_a_followup_is_answered_from_the_findings() -> None:
    assert LlmOutcome(skipped_reason="--no-llm was given").unavailable_reason() == "--no-llm was given"
    failed = LlmOutcome(error="rate limited; retry later")
    assert failed.degraded and failed.unavailable_reason() == "the LLM pass failed (rate limited; retry later)"
    stopped = LlmOutcome(error="stopped because the run was cancelled: enough", stopped=("cancelled", "enough"))
    assert stopped.degraded and stopped.unavailable_reason() == "the LLM pass stopped because the run was cancelled: enough"
