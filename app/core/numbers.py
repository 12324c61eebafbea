"""The one integer parser for numbers typed into a request: path ids, query values and form fields.

`str.isdigit()` accepts `²` and `١`, and `int()` accepts `١٢`, ` 12`, `+12` and `1_000`; a value that
passed the first and failed the second was a 500. Here a number is 1 to 19 ASCII digits (a leading `-` only
where a range allows negatives) whose value lies in the caller's range — anything else is "not a number",
answered as bad input by the caller.
"""

from __future__ import annotations

import re

# Ids are INTEGER columns: 32-bit on PostgreSQL. No row has an id past this, on either database.
MAX_ID = 2**31 - 1
# The largest whole number either database takes at all (BIGINT, LIMIT, OFFSET).
MAX_INT64 = 2**63 - 1

_DIGITS = re.compile(r"-?[0-9]{1,19}", re.ASCII)


def parse_int(value: object, *, minimum: int = 0, maximum: int = MAX_ID) -> int | None:
    """`value` as an int when it is ASCII digits within [minimum, maximum]; None otherwise (never raises)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value):
        number = int(value)
    else:
        return None
    return number if minimum <= number <= maximum else None


def looks_like_number(value: str) -> bool:
    """Only ASCII digits (however many): a number that may still be out of range."""
    return bool(value) and value.isascii() and value.isdigit()
