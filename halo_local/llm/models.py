"""Which Anthropic models an analysis may use, whether to use one at all, and what it cost."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

from halo_local.errors import UsageError

API_KEY_ENV = "ANTHROPIC_API_KEY"
PRICE_PROVIDER = "anthropic"


@dataclass(frozen=True)
class ModelInfo:
    model_id: str
    display_name: str
    default: bool


@dataclass(frozen=True)
class CallUsage:
    """Tokens of one Messages API call; `input_tokens` counts cache reads and writes too (the OTel rule)."""

    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int


# Every id here is in the anthropic SDK's model list, not on its deprecation list (Sonnet 4.5 and
# Opus 4.5 are: end of life Nov 2026 / Jan 2027), and priced by genai-prices. Sonnet 5.5 is the
# default: strong at tool use and SQL at a fraction of Opus's price; Haiku for cheap scheduled runs.
_CATALOG: tuple[ModelInfo, ...] = (
    ModelInfo("claude-sonnet-5-5", "Claude Sonnet 5.5", True),
    ModelInfo("claude-opus-5-5", "Claude Opus 5.5", False),
    ModelInfo("claude-haiku-5-5", "Claude Haiku 5.5", False),
    ModelInfo("claude-fable-5-2", "Claude Fable 5.2", False),
    ModelInfo("claude-sonnet-4-6", "Claude Sonnet 4.6", False),
    ModelInfo("claude-opus-4-8", "Claude Opus 4.8", False),
    ModelInfo("claude-haiku-4-5", "Claude Haiku 4.5", False),
)


def model_catalog() -> list[ModelInfo]:
    """The model ids `--model-id` accepts, the default first."""
    return list(_CATALOG)


def default_model_id() -> str:
    return next(model.model_id for model in _CATALOG if model.default)


def resolve_model_id(model_id: str | None) -> str:
    """The catalog id for `model_id` (None or empty: the default); UsageError listing valid ids otherwise."""
    if model_id is None or not str(model_id).strip():
        return default_model_id()
    wanted = str(model_id).strip().lower()
    for model in _CATALOG:
        if model.model_id == wanted:
            return model.model_id
    valid = ", ".join(model.model_id for model in _CATALOG)
    raise UsageError(f"unknown model id {model_id!r}; valid ids: {valid}", hint="`halo-local model list` shows them")


def llm_skip_reason(no_llm: bool) -> str | None:
    """Why the LLM pass will not run (the report says so), or None when it will."""
    if no_llm:
        return "--no-llm was given"
    if not os.environ.get(API_KEY_ENV, "").strip():
        return f"{API_KEY_ENV} is not set"
    return None


def cost_usd(model_id: str, calls: Iterable[CallUsage]) -> float | None:
    """The price of the calls at genai-prices' Anthropic rates, each call priced on its own (tiers are per
    request); None when the model has no known price."""
    from genai_prices import Usage, calc_price  # 0.2 s to import: only a priced run pays it

    total = 0.0
    for call in calls:
        usage = Usage(
            input_tokens=call.input_tokens,
            output_tokens=call.output_tokens,
            cache_read_tokens=call.cache_read_tokens,
            cache_write_tokens=call.cache_write_tokens,
        )
        try:
            total += float(calc_price(usage, model_id, provider_id=PRICE_PROVIDER).total_price)
        except LookupError:
            return None
    return total
