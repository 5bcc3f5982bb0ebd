"""Model prices from genai-prices, as rate tables DuckDB can price whole span sets with.

genai-prices is asked once per distinct (provider, model), never per span: it resolves the model and
hands over its price rules; `sql/normalize/price.sql` then applies them exactly as genai-prices'
`calc_price` would (same rule choice, same cliff tiers on total input tokens, same cache split),
with exact decimals. Only the bundled price data is used: genai-prices fetches newer prices only
when an `UpdatePrices` is started, which this module never does, and it reads a snapshot built from
the bundled data even if something else in the process started one — so a load never touches the
network and the same usage always gets the same price.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal, localcontext
from functools import cache
from typing import Any

import duckdb
import pyarrow as pa
from genai_prices import types as price_types
from genai_prices.data_snapshot import DataSnapshot, find_provider_by_id
from genai_prices.data_units import unit_data

from halo_local.resources import sql_text

# genai-prices usage keys we report, by the unit name price.sql uses.
PRICED_UNITS: dict[str, str] = {
    "input": "input_tokens",
    "output": "output_tokens",
    "cache_read": "cache_read_tokens",
    "cache_write": "cache_write_tokens",
    "requests": "requests",
}
# Decimal places of price_rates.rate (DECIMAL(38, 24) in price_tables.sql): prices have up to 18, per 10^6 adds 6.
RATE_SCALE = 24
BASE_TIER_START = -1  # input_tokens > -1 always holds, so the base rate is the fallback tier


@dataclass(frozen=True)
class Rate:
    """USD per single unit (token or request) from `tier_start` input tokens on (exclusive)."""

    unit: str
    tier_start: int
    rate: Decimal


@dataclass(frozen=True)
class PriceRule:
    """One of a model's price sets and when it applies; `index` orders them as genai-prices does."""

    index: int
    start_date: date | None
    time_start: time | None
    time_end: time | None
    rates: tuple[Rate, ...]


@dataclass(frozen=True)
class ModelPricing:
    """What genai-prices knows about one model: its ids and its price rules."""

    provider_id: str
    model_id: str
    rules: tuple[PriceRule, ...]


@cache
def _snapshot() -> DataSnapshot:
    """genai-prices' bundled price data, independent of any auto-update in the process."""
    from genai_prices.data import providers

    return DataSnapshot(providers=providers, from_auto_update=False)


@cache
def provider_id_for(name: str) -> str | None:
    """The genai-prices provider id genai-prices itself matches `name` to, or None."""
    provider = find_provider_by_id(_snapshot().providers, name)
    return provider.id if provider is not None else None


@cache
def model_pricing(provider: str | None, model: str) -> ModelPricing | None:
    """genai-prices' prices for `model`, looked up like `calc_price(provider_id=provider)` does.

    A provider genai-prices does not know (or None) falls back to matching the model id alone.
    None when the model cannot be priced exactly (unknown, or a constraint type this module does not
    translate to SQL).
    """
    snapshot = _snapshot()
    found = None
    for provider_id in dict.fromkeys([provider, None]):
        try:
            found = snapshot.find_provider_model(model, None, provider_id, None)
            break
        except LookupError:
            continue
    if found is None:
        return None
    matched_provider, model_info = found
    conditional = (
        [price_types.ConditionalPrice(constraint=None, prices=model_info.prices)]
        if isinstance(model_info.prices, price_types.ModelPrice)
        else list(model_info.prices)
    )
    rules = []
    for index, conditional_price in enumerate(conditional):
        rule = _rule(index, conditional_price)
        if rule is None:
            return None
        rules.append(rule)
    return ModelPricing(provider_id=matched_provider.id, model_id=model_info.id, rules=tuple(rules))


def _rule(index: int, conditional_price: price_types.ConditionalPrice) -> PriceRule | None:
    constraint = conditional_price.constraint
    start_date = time_start = time_end = None
    if isinstance(constraint, price_types.StartDateConstraint):
        start_date = constraint.start_date
    elif isinstance(constraint, price_types.TimeOfDateConstraint):
        time_start, time_end = _utc_time(constraint.start_time), _utc_time(constraint.end_time)
    elif constraint is not None:
        return None
    rates = []
    for unit, usage_key in PRICED_UNITS.items():
        price_key = unit_data[usage_key]["price_key"]
        per = int(unit_data[usage_key]["per"])
        price = getattr(conditional_price.prices, price_key, None)
        if price is None:
            continue
        tiers = (
            [(BASE_TIER_START, price.base), *((tier.start, tier.price) for tier in price.tiers)]
            if isinstance(price, price_types.TieredPrices)
            else [(BASE_TIER_START, price)]
        )
        for tier_start, tier_price in tiers:
            rate = _per_unit(tier_price, per)
            if rate is None:
                return None
            rates.append(Rate(unit=unit, tier_start=tier_start, rate=rate))
    return PriceRule(index=index, start_date=start_date, time_start=time_start, time_end=time_end,
                     rates=tuple(rates))


def _per_unit(price: Decimal, per: int) -> Decimal | None:
    """`price / per` exactly, or None when it does not fit RATE_SCALE decimal places."""
    with localcontext() as context:
        context.prec = 80
        rate = Decimal(price) / per
        if rate != rate.quantize(Decimal(1).scaleb(-RATE_SCALE)):
            return None
        return rate


def _utc_time(value: time) -> time:
    """A constraint's time of day in UTC, naive (naive times are UTC already), as genai-prices reads it."""
    if value.tzinfo is None:
        return value
    return datetime.combine(date(1970, 1, 1), value).astimezone(UTC).time()


def load_price_tables(
    connection: duckdb.DuckDBPyConnection, models: Iterable[tuple[str | None, str]]
) -> None:
    """(Re)create TEMP tables price_rules and price_rates for these (provider, model) pairs.

    Pairs genai-prices cannot price get no rows, which price.sql reads as unpriced.
    """
    rules: dict[str, list[Any]] = {"provider": [], "model": [], "rule_index": [], "start_date": [],
                              "time_start": [], "time_end": []}
    rates: dict[str, list[Any]] = {"provider": [], "model": [], "rule_index": [], "unit": [], "tier_start": [],
                              "rate": []}
    for provider, model in models:
        pricing = model_pricing(provider, model)
        if pricing is None:
            continue
        for rule in pricing.rules:
            for column, value in zip(rules, (provider, model, rule.index, rule.start_date, rule.time_start,
                                             rule.time_end), strict=True):
                rules[column].append(value)
            for rate in rule.rates:
                for column, value in zip(rates, (provider, model, rule.index, rate.unit, rate.tier_start,
                                                 str(rate.rate)), strict=True):
                    rates[column].append(value)
    rule_table = pa.table(rules, schema=pa.schema([
        ("provider", pa.string()), ("model", pa.string()), ("rule_index", pa.int32()),
        ("start_date", pa.date32()), ("time_start", pa.time64("us")), ("time_end", pa.time64("us")),
    ]))
    rate_table = pa.table(rates, schema=pa.schema([
        ("provider", pa.string()), ("model", pa.string()), ("rule_index", pa.int32()), ("unit", pa.string()),
        ("tier_start", pa.int64()), ("rate", pa.string()),
    ]))
    connection.register("price_rules_arrow", rule_table)
    connection.register("price_rates_arrow", rate_table)
    try:
        connection.execute(sql_text("normalize/price_tables.sql"))
    finally:
        connection.unregister("price_rules_arrow")
        connection.unregister("price_rates_arrow")
