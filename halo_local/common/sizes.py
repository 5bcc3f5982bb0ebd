"""One way to read a size that people write (`512MB`, `1.5GiB`, `65536`), for every setting and flag.

KB, MB, GB and TB are powers of 1024, exactly like KiB, MiB, GiB and TiB (and the short K, M, G, T):
that is how memory limits are written and how DuckDB reports memory, so `1GB` never means two things.
"""

from __future__ import annotations

import re

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(I?B)?\s*$", re.IGNORECASE)
_POWERS = {"": 0, "K": 1, "M": 2, "G": 3, "T": 4}


def parse_size(text: str, *, bare_unit: int = 1) -> int | None:
    """`text` as a whole number of bytes, or None when it is not a size.

    A bare number counts in `bare_unit` bytes (the sandbox's memory limit takes a bare number as MB).
    """
    match = _SIZE.match(text)
    if match is None:
        return None
    number, prefix, suffix = match.group(1), match.group(2).upper(), (match.group(3) or "").upper()
    if suffix == "IB" and not prefix:
        return None
    factor = 1024 ** _POWERS[prefix] if prefix or suffix else bare_unit
    return int(float(number) * factor)
