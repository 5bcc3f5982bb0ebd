"""Pricing: genai-prices rates applied in SQL must give exactly what genai-prices' calc_price gives."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any

from genai_prices.data import providers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_normalize import expected_cost, normalize_spans, raw_span, stored

from halo_local.pricing import BASE_TIER_START, model_pricing, provider_id_for
from halo_local.store import Store

USAGE_KEYS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
ATTRIBUTE_OF = {
    "input_tokens": "gen_ai.usage.input_tokens",
    "output_tokens": "gen_ai.usage.output_tokens",
    "cache_read_tokens": "gen_ai.usage.cache_read.input_tokens",
    "cache_write_tokens": "gen_ai.usage.cache_creation.input_tokens",
}
# Models with every kind of price genai-prices has: plain, cache read/write, cliff tiers (gemini-2.5-pro,
# claude-sonnet-4-5), start-date rules (claude-opus-4-6), time-of-day rules (deepseek-chat), a per-request
# price (perplexity sonar), a model matched without a provider.
SAMPLE_MODELS = [
    ("openai", "gpt-4o"), ("openai", "gpt-4o-mini"), ("anthropic", "claude-sonnet-4-5"),
    ("google", "gemini-2.5-pro"), ("anthropic", "claude-opus-4-6"), ("deepseek", "deepseek-chat"),
    ("perplexity", "sonar"), (None, "gpt-4o-mini"), ("aws", "claude-sonnet-4-5"),
]


def ns(moment: datetime) -> int:
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000


def usage_span(span_id: str, provider: str | None, model: str, start_ns: int, usage: dict[str, int | None]) -> dict:
    attributes: dict[str, Any] = {"gen_ai.request.model": model}
    if provider is not None:
        attributes["gen_ai.provider.name"] = provider
    attributes.update({ATTRIBUTE_OF[key]: value for key, value in usage.items() if value is not None})
    return raw_span(span_id, trace_id=f"{span_id:0>32}", name="chat", attributes=attributes, start_ns=start_ns)


def check_against_genai_prices(store: Store, cases: list[tuple[str | None, str, int, dict]]) -> int:
    """Normalize one span per case; each cost must be calc_price's (NULL/unpriced where it raises).

    Returns how many cases genai-prices priced."""
    spans = [usage_span(f"{index:x}", provider, model, start, usage)
             for index, (provider, model, start, usage) in enumerate(cases)]
    with store.connect() as connection:
        connection.execute("DELETE FROM spans")
        normalize_spans(connection, spans)
        rows = stored(connection)
    priced = 0
    for index, (provider, model, start, usage) in enumerate(cases):
        row = rows[f"{index:x}"]
        if all(value is None for value in usage.values()):
            assert (row["cost_usd"], row["cost_source"]) == (None, None)  # no usage, no cost
            continue
        expected = expected_cost(provider, model, start, **usage)
        assert (row["cost_usd"], row["cost_source"]) == (
            expected, "computed" if expected is not None else "unpriced"), (provider, model, usage)
        priced += expected is not None
    return priced


def test_provider_ids() -> None:
    assert provider_id_for("gemini") == "google"
    assert provider_id_for("OpenAI") == "openai"
    assert provider_id_for("openai.responses") == "openai"
    assert provider_id_for("no-such-provider") is None


def test_model_pricing_rules_and_tiers() -> None:
    tiered = model_pricing("google", "gemini-2.5-pro")
    assert tiered is not None and tiered.provider_id == "google"
    input_tiers = sorted((rate.tier_start, rate.rate) for rate in tiered.rules[-1].rates if rate.unit == "input")
    assert input_tiers[0] == (BASE_TIER_START, Decimal("1.25") / 1_000_000)
    assert len(input_tiers) > 1 and input_tiers[1][1] > input_tiers[0][1]
    by_time = model_pricing("deepseek", "deepseek-chat")
    assert by_time is not None
    assert [(rule.time_start, rule.time_end) for rule in by_time.rules] == [(None, None), (time(0, 30), time(16, 30))]
    requests = model_pricing("perplexity", "sonar")
    assert requests is not None
    assert [rate.rate for rate in requests.rules[0].rates if rate.unit == "requests"] == [Decimal("0.012")]
    assert model_pricing("openai", "no-such-model-xyz") is None
    assert model_pricing("no-such-provider", "gpt-4o") is not None  # falls back to the model id alone


def test_every_bundled_model_prices_like_calc_price(store: Store) -> None:
    """All genai-prices models, usages on both sides of 200k-token tiers, two dates and two times of day."""
    usages = [
        {"input_tokens": 1_000_003, "output_tokens": 7_777, "cache_read_tokens": 250_001, "cache_write_tokens": 3},
        {"input_tokens": 150_000, "output_tokens": 100, "cache_read_tokens": None, "cache_write_tokens": None},
        {"input_tokens": None, "output_tokens": 50, "cache_read_tokens": None, "cache_write_tokens": None},
    ]
    moments = [datetime(2025, 6, 1, 3, 0, tzinfo=UTC), datetime(2026, 7, 1, 12, 0, tzinfo=UTC)]
    cases = [
        (provider.id, model.id, ns(moment), usage)
        for provider in providers
        for model in provider.models
        for index, usage in enumerate(usages)
        for moment in moments[index % 2:][:1]
    ]
    assert check_against_genai_prices(store, cases) > len(cases) // 2


usage_counts = st.one_of(st.none(), st.integers(min_value=0, max_value=3_000_000))


# Each case is one span priced on its own, so the cases of an example are independent checks; a normalize
# costs ~0.4 s whatever the span count, so 6 examples of up to 100 spans price as many random cases (~300)
# as 15 examples of up to 40 did, for 40% of the loads.
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(
    st.tuples(
        st.sampled_from(SAMPLE_MODELS),
        st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)),
        st.fixed_dictionaries({key: usage_counts for key in USAGE_KEYS}),
    ),
    min_size=1, max_size=100,
))
def test_random_usage_prices_like_calc_price(store: Store, cases: list) -> None:
    check_against_genai_prices(store, [(provider, model, ns(moment), usage)
                                       for (provider, model), moment, usage in cases])


def test_tier_threshold_time_of_day_and_request_price(store: Store) -> None:
    noon = ns(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    cases = [
        ("google", "gemini-2.5-pro", noon, {"input_tokens": 200_000, "output_tokens": 1_000}),
        ("google", "gemini-2.5-pro", noon, {"input_tokens": 200_001, "output_tokens": 1_000}),
        ("deepseek", "deepseek-chat", ns(datetime(2026, 3, 1, 0, 29, 59, 999_999, tzinfo=UTC)),
         {"input_tokens": 1_000_000}),
        ("deepseek", "deepseek-chat", ns(datetime(2026, 3, 1, 0, 30, tzinfo=UTC)), {"input_tokens": 1_000_000}),
        ("perplexity", "sonar", noon, {"input_tokens": 0, "output_tokens": 0}),
    ]
    assert check_against_genai_prices(store, cases) == len(cases)
    with store.connect() as connection:
        costs = [row["cost_usd"] for row in stored(connection).values()]
    below, above, off_peak, peak, request = costs
    assert above / Decimal(200_001) > below / Decimal(200_000)  # the whole call moves to the higher tier
    assert (off_peak, peak) == (Decimal("0.135"), Decimal("0.27"))
    assert request == Decimal("0.012")
