"""Vietnamese text helpers: the text policy at the input edge (NFC, no invisible characters), diacritic
folding, phone and username normalisation.

The policy: text arrives NFC (TCVN 6909) and without characters nobody can see or type on purpose: C0 and C1
control characters (a `\x07` in a name broke every XLSX export), DEL, the bidirectional embeddings, overrides
and isolates (U+202E turned a name around on the public verification page), the zero-width space and the
byte-order mark, and lone surrogates (which no encoder writes). They are removed, not refused: they are
never meant, and a person cannot see them to fix them. NUL is never stored (app/core/db.py refuses it too).
Names, titles and every other one-line value go through `nfc` (line breaks and tabs become spaces); text that
keeps its lines (lesson Markdown, question text, reasons) through `clean_text`.
"""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
# Removed by the policy above (tab and line feed survive in `clean_text` only).
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]"
)
_PHONE_JUNK = re.compile(r"[\s.\-()/]")
_VN_MOBILE = re.compile(r"^0[35789]\d{8}$")
_USERNAME_OK = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


def nfc(value: str) -> str:
    """One line of text by the policy: NFC, invisible characters removed, runs of white space (line breaks
    and tabs included) collapsed to one space, trimmed."""
    value = _SPACES.sub(" ", unicodedata.normalize("NFC", value))
    return _SPACES.sub(" ", _INVISIBLE.sub("", value)).strip()


def clean_text(value: str) -> str:
    """Text that keeps its lines (Markdown), by the policy: NFC, Unix line ends, invisible characters removed
    (tabs and line breaks kept)."""
    value = unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n")
    return _INVISIBLE.sub("", value)


def printable(value: str) -> str:
    """What a writer (XLSX, CSV, PDF) may put on a page whatever was stored: invisible characters removed."""
    return _INVISIBLE.sub("", value)


def fold(value: str) -> str:
    """Lower-case ASCII fold for search and usernames: diacritics dropped, `đ` → `d`."""
    value = unicodedata.normalize("NFD", value.replace("đ", "d").replace("Đ", "D"))
    value = "".join(ch for ch in value if not unicodedata.combining(ch))
    return _SPACES.sub(" ", value.lower()).strip()


def normalize_phone(value: str) -> str:
    """Normalise a Vietnamese mobile number: `+84 912 345 678` → `0912345678`.

    Raises ValueError when the result is not a 10-digit Vietnamese mobile number.
    """
    digits = _PHONE_JUNK.sub("", value.strip())
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    elif digits.startswith("0084"):
        digits = "0" + digits[4:]
    elif len(digits) == 9 and digits[0] in "35789":
        digits = "0" + digits  # Excel drops the leading zero of numbers typed as numbers
    if not _VN_MOBILE.match(digits):
        raise ValueError(value)
    return digits


def looks_like_phone(value: str) -> bool:
    stripped = _PHONE_JUNK.sub("", value.strip())
    return bool(stripped) and (stripped.lstrip("+").isdigit())


def normalize_username(value: str) -> str:
    """Fold a username to its canonical form; raises ValueError when it has characters we do not allow."""
    folded = fold(nfc(value)).replace(" ", "")
    if not _USERNAME_OK.match(folded):
        raise ValueError(value)
    return folded


def normalize_email(value: str) -> str:
    return nfc(value).lower()
