"""genai-prices rates shipped into a ClickHouse query, so the cluster prices each call as the laptop does.

The cluster names the (raw provider, model) pairs a window may have to price (clickhouse/price_models.sql);
here each raw provider name becomes the provider the local normalizer gives it (mapping.sql's
provider_aliases, else genai-prices' own match, else the lower-cased name) and each pair's price rules
and rates become flat array parameters of clickhouse/overview.sql, which applies them as
normalize/price.sql does. Only the few distinct pairs are looked up, never anything per span.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import date, time
from typing import Any

import duckdb

from halo_local.pricing import model_pricing, provider_id_for
from halo_local.resources import sql_text

_EPOCH = date(1970, 1, 1)


@functools.cache
def provider_aliases() -> dict[str, str]:
    """mapping.sql's provider_aliases: raw provider names genai-prices does not resolve (or resolves differently)."""
    with duckdb.connect() as connection:
        connection.execute(sql_text("normalize/mapping.sql"))
        return dict(connection.execute("SELECT raw_name, provider FROM provider_aliases").fetchall())


def provider_for(raw_name: str) -> str:
    """The provider the local normalizer stores for a lower-cased raw provider name (normalized_rows.sql)."""
    return provider_aliases().get(raw_name) or provider_id_for(raw_name) or raw_name


def price_parameters(pairs: Iterable[tuple[str | None, str]]) -> dict[str, list[Any]]:
    """The overview query's pricing parameters for these (lower-cased raw provider, model) pairs: the
    provider of each raw name, and every rule and rate of the pairs genai-prices can price, keyed
    `provider \\x1f model` (a missing provider as empty)."""
    wanted = sorted(set(pairs), key=lambda pair: (pair[0] or "", pair[1]))
    names = sorted({raw for raw, _ in wanted if raw is not None})
    parameters: dict[str, list[Any]] = {
        "provider_names": names, "provider_ids": [provider_for(name) for name in names],
        "rule_keys": [], "rule_indexes": [], "rule_start_days": [], "rule_time_starts": [], "rule_time_ends": [],
        "rate_keys": [], "rate_rules": [], "rate_units": [], "rate_tiers": [], "rate_values": [],
    }
    priced: set[tuple[str | None, str]] = set()
    for raw, model in wanted:
        provider = provider_for(raw) if raw is not None else None
        pricing = model_pricing(provider, model)
        if pricing is None or (provider, model) in priced:
            continue
        priced.add((provider, model))
        key = f"{provider or ''}\x1f{model}"
        for rule in pricing.rules:
            parameters["rule_keys"].append(key)
            parameters["rule_indexes"].append(rule.index)
            parameters["rule_start_days"].append((rule.start_date - _EPOCH).days if rule.start_date else None)
            parameters["rule_time_starts"].append(_micros_of_day(rule.time_start))
            parameters["rule_time_ends"].append(_micros_of_day(rule.time_end))
            for rate in rule.rates:
                parameters["rate_keys"].append(key)
                parameters["rate_rules"].append(rule.index)
                parameters["rate_units"].append(rate.unit)
                parameters["rate_tiers"].append(rate.tier_start)
                parameters["rate_values"].append(f"{rate.rate:f}")
    return parameters


def _micros_of_day(value: time | None) -> int | None:
    if value is None:
        return None
    return ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 + value.microsecond
