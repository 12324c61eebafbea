"""Vietnamese text helpers: NFC normalisation, diacritic folding, phone and username normalisation."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_PHONE_JUNK = re.compile(r"[\s.\-()/]")
_VN_MOBILE = re.compile(r"^0[35789]\d{8}$")
_USERNAME_OK = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


def nfc(value: str) -> str:
    """NFC-normalise and trim, collapsing inner runs of white space (TCVN 6909 text is NFC)."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", value)).strip()


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
