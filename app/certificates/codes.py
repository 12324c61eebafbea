"""Certificate codes: 80 random bits as Crockford base32 in four groups, `7KQ2-M9XD-4HNB-V0TE`.

Read aloud and typed from paper, so the alphabet has no I, L, O or U; `normalize_code` accepts lower case,
missing or different dashes and spaces, and the letters people confuse with digits (O → 0, I and L → 1). With
2⁸⁰ codes a mistyped code practically never hits another certificate, so there is no check digit: a typo shows
"not found". Codes are unique by chance; the table should still carry a unique constraint (retry on the
vanishing collision).
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from typing import Final

from app.core.errors import N_, Invalid

ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32
CODE_BITS: Final = 80
GROUP: Final = 4
LENGTH: Final = CODE_BITS // 5  # 16 symbols
CODE_PATTERN: Final = re.compile(
    rf"^[{ALPHABET}]{{{GROUP}}}(-[{ALPHABET}]{{{GROUP}}}){{{LENGTH // GROUP - 1}}}$"
)

_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—_.·]+")


def _format(symbols: str) -> str:
    return "-".join(symbols[i : i + GROUP] for i in range(0, len(symbols), GROUP))


def new_certificate_code() -> str:
    """A fresh code from `secrets`: 80 bits, formatted `XXXX-XXXX-XXXX-XXXX`."""
    number = secrets.randbits(CODE_BITS)
    symbols = "".join(ALPHABET[(number >> shift) & 31] for shift in range(CODE_BITS - 5, -1, -5))
    return _format(symbols)


def normalize_code(text: str) -> str:
    """The canonical `XXXX-XXXX-XXXX-XXXX` form of a typed code; raises `Invalid` when it cannot be one."""
    compact = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text or "")).upper().translate(_CONFUSABLE)
    if len(compact) != LENGTH or any(ch not in ALPHABET for ch in compact):
        raise Invalid(
            N_("A certificate code has 16 letters and digits, like 7KQ2-M9XD-4HNB-V0TE."),
            code="certificate_code",
        )
    return _format(compact)
