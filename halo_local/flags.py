"""Flag values as fire hands them over, converted explicitly and checked, for every command.

fire guesses types: `50` arrives as an int, `0,30` as a tuple, `--enabled false` as the string
'false' or the bool False, `1e5` as a float. Commands and the API convert through these functions,
so each flag accepts all of those forms and refuses anything else with a UsageError naming the flag.
"""

from __future__ import annotations

import json
from typing import Any

from halo_local.errors import UsageError

TRUE_WORDS = frozenset({"true", "1", "yes", "y", "on"})
FALSE_WORDS = frozenset({"false", "0", "no", "n", "off"})


def parse_bool(value: Any, flag: str) -> bool:
    """True/False, `'true'`/`'false'` (and yes/no, on/off, 1/0), as fire may hand over either."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise UsageError(f"{flag} takes true or false; got {value!r}")


def parse_int(value: Any, flag: str, minimum: int, maximum: int | None = None) -> int:
    """One whole number within bounds (`"50"` and `50` alike)."""
    number = _whole_number(value, flag, "takes a whole number")
    if number < minimum or (maximum is not None and number > maximum):
        bounds = f"from {minimum} to {maximum}" if maximum is not None else f"of at least {minimum}"
        raise UsageError(f"{flag} takes a number {bounds}; got {number}")
    return number


def parse_int_list(value: Any, flag: str, minimum: int, maximum: int) -> tuple[int, ...]:
    """`0,30`, `(0, 30)`, `[0, 30]`, `5` or `"5"` -> sorted distinct ints within [minimum, maximum]."""
    if isinstance(value, (list, tuple)):
        items: list[Any] = list(value)
    elif isinstance(value, str):
        text = value.strip()
        if text[:1] in "[(" and text[-1:] in "])":
            text = text[1:-1]
        items = [] if not text.strip() else text.split(",")
    else:
        items = [value]
    numbers = {_whole_number(item, flag, "takes comma-separated whole numbers") for item in items}
    if not numbers:
        raise UsageError(f"{flag} needs at least one value")
    outside = sorted(number for number in numbers if not minimum <= number <= maximum)
    if outside:
        raise UsageError(f"{flag} takes numbers from {minimum} to {maximum}; got {outside[0]}")
    return tuple(sorted(numbers))


def parse_text(value: Any) -> str | None:
    """A free-text flag: fire turns `a,b` into a tuple and `123` into an int; give the text back."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return ",".join(str(item) for item in value)
    return str(value)


def _whole_number(value: Any, flag: str, expectation: str) -> int:
    if isinstance(value, bool):
        raise UsageError(f"{flag} {expectation}; got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    try:
        return int(str(value).strip())
    except ValueError:
        raise UsageError(f"{flag} {expectation}; got {value!r}") from None


def parse_assignments(value: Any, flag: str) -> dict[str, Any] | None:
    """`name=4,other=0.5` or a JSON object -> {name: value}; numbers stay numbers, None when absent."""
    if value is None:
        return None
    if isinstance(value, dict):
        return dict(value)
    text = ",".join(str(item) for item in value) if isinstance(value, (list, tuple)) else str(value).strip()
    if text.startswith("{"):
        try:
            decoded = json.loads(text)
        except ValueError:
            raise UsageError(f"{flag} takes name=value pairs or a JSON object; got {text!r}") from None
        if isinstance(decoded, dict):
            return decoded
    pairs: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, equals, raw = item.partition("=")
        if not equals or not name.strip():
            raise UsageError(f"{flag} takes name=value pairs such as loop_min_repeats=4; got {item!r}")
        try:
            pairs[name.strip()] = json.loads(raw.strip())
        except ValueError:
            pairs[name.strip()] = raw.strip()
    return pairs or None
