"""The claims' prefilter drops no fact: every text the fact patterns find a fact in (halo_h_fact_tokens)
passes halo_h_may_state_fact, which the set-up uses to run the patterns on no other text and the window
guard to skip the claims altogether when no model output passes it."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from halo_local.heuristics import analysis

# Digits of other scripts (Arabic-Indic, full-width, Devanagari), quotes that are not ASCII's, and the
# characters the patterns read around a fact (separators, colons, blanks): where a prefilter could err.
TRICKY = "0123456789\"',.:; \t\n-_$%٣５७“”″aZé"


@pytest.fixture(scope="module")
def connection() -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect() as connection:
        for name in ("_prepare.sql", "_claims.sql"):
            for statement in analysis._script(name):
                if analysis._creates_macro(statement):
                    connection.execute(statement)
        yield connection


def _tokens_and_prefilter(connection: duckdb.DuckDBPyConnection, text: str) -> tuple[list[str], bool]:
    row = connection.execute("SELECT halo_h_fact_tokens($text), halo_h_may_state_fact($text)", {"text": text}).fetchall()
    return row[0][0], row[0][1]


@pytest.mark.parametrize("text", ['the "Family Fun Pass"', "costs 1,250.00", "27 moons", "1,0", "٣٣ and ５５",
                                  "no figure here", "a 7 alone", '"ab" too short'])
def test_known_texts(connection: duckdb.DuckDBPyConnection, text: str) -> None:
    tokens, may_state = _tokens_and_prefilter(connection, text)
    assert not tokens or may_state
    assert bool(tokens) == (text in ('the "Family Fun Pass"', "costs 1,250.00", "27 moons", "1,0"))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.sampled_from(TRICKY) | st.characters(codec="utf-8"), max_size=80))
def test_every_text_holding_a_fact_passes_the_prefilter(connection: duckdb.DuckDBPyConnection, text: str) -> None:
    tokens, may_state = _tokens_and_prefilter(connection, text)
    assert not tokens or may_state, (text, tokens)


def test_every_character_a_fact_can_be_made_of_passes(connection: duckdb.DuckDBPyConnection) -> None:
    """A figure or a phrase made of one character repeated, for every character of the first planes a
    fact pattern could read: each one a fact is found in passes the prefilter."""
    characters = [chr(code) for code in range(1, 0x3100) if not 0xD800 <= code <= 0xDFFF]
    texts = [text for character in characters for text in (f"{character * 2} x", f'"{character * 3}" x')]
    rows = connection.execute(
        "SELECT text FROM unnest($texts) AS texts(text)"
        " WHERE len(halo_h_fact_tokens(text)) > 0 AND NOT halo_h_may_state_fact(text)", {"texts": texts}).fetchall()
    assert rows == []
