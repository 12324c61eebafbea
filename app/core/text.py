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
    if value.isascii() and value.isprintable():  # codes, numbers: no control character, nothing to compose
        return " ".join(value.split()) if "  " in value else value.strip()
    value = _SPACES.sub(" ", unicodedata.normalize("NFC", value))
    return _SPACES.sub(" ", _INVISIBLE.sub("", value)).strip()


def clean_text(value: str) -> str:
    """Text that keeps its lines (Markdown), by the policy: NFC, Unix line ends, invisible characters removed
    (tabs and line breaks kept)."""
    value = unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n")
    return _INVISIBLE.sub("", value)


# Tone placement (see `normalise_tones`): the five tone marks, the marks that make other vowels (â ê ô, ă,
# ơ ư), and the open two-vowel syllables whose tone the current spelling rules put on the second vowel.
_TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")  # huyền, sắc, ngã, hỏi, nặng
_VOWEL_MARKS = frozenset("\u0302\u0306\u031b")  # circumflex, breve, horn
_VOWELS = frozenset("aeiouy")
_TONE_ON_SECOND = frozenset({"oa", "oe", "uy"})
_LETTERS = re.compile(r"[^\W\d_]+")


def normalise_tones(value: str) -> str:
    """NFC text with each word's tone mark on the vowel the current spelling rules choose, so the two
    spellings people type (`Hòa`/`Hoà`, `thủy`/`thuỷ`, `Khánh Hoà`…) become one. Nothing else changes.

    Vietnamese keyboards (Unikey, the phones' own) place the tone of `oa`, `oe`, `uy` either on the first
    vowel (the older habit) or on the second (the 2018 rules): both are correct, both appear in official
    registers, and they are different code points in NFC. No maintained small library does only this; the
    rule is short:
    in a word's vowel group (after the consonants `qu`, `gi`), the tone goes on the vowel carrying â ê ô ă ơ ư
    (the last one: ươ → ơ); else on the only vowel; else, before a final consonant, on the last vowel; else
    on the second of `oa` `oe` `uy`, the middle of three vowels, or the first of two.
    """
    return _LETTERS.sub(_place_tone, unicodedata.normalize("NFC", value))


def _place_tone(match: re.Match[str]) -> str:
    word = match.group(0)
    clusters = _clusters(unicodedata.normalize("NFD", word))
    tones = [(i, mark) for i, cluster in enumerate(clusters) for mark in cluster[1:] if mark in _TONE_MARKS]
    if len(tones) != 1:
        return word  # no tone, or a typing slip with two: nothing to move
    target = _tone_vowel(clusters)
    if target is None:
        return word
    at, tone = tones[0]
    clusters[at] = clusters[at].replace(tone, "")
    clusters[target] += tone
    return unicodedata.normalize("NFC", "".join(clusters))


def _clusters(decomposed: str) -> list[str]:
    """A letter with its combining marks, per item."""
    clusters: list[str] = []
    for ch in decomposed:
        if clusters and unicodedata.combining(ch):
            clusters[-1] += ch
        else:
            clusters.append(ch)
    return clusters


def _tone_vowel(clusters: list[str]) -> int | None:
    """Index of the letter that carries the word's tone (see `normalise_tones`)."""
    bases = [c[0].lower() for c in clusters]
    vowel = [b in _VOWELS for b in bases]
    if len(bases) > 2 and bases[0] == "q" and bases[1] == "u":
        vowel[1] = False  # `qu` is a consonant: quý, quả
    if len(bases) > 2 and bases[0] == "g" and bases[1] == "i" and vowel[2]:
        vowel[1] = False  # `gi` before a vowel is a consonant: giá, giường (but gì)
    if True not in vowel:
        return None
    start = vowel.index(True)
    end = start
    while end + 1 < len(bases) and vowel[end + 1]:
        end += 1
    group = range(start, end + 1)
    marked = [i for i in group if any(m in _VOWEL_MARKS for m in clusters[i][1:])]
    if marked:
        return marked[-1]
    if start == end or end + 1 < len(bases):
        return end
    if "".join(bases[start : end + 1]) in _TONE_ON_SECOND:
        return end
    return start + 1 if end - start == 2 else start


def printable(value: str) -> str:
    """What a writer (XLSX, CSV, PDF) may put on a page whatever was stored: invisible characters removed."""
    return _INVISIBLE.sub("", value)


def fold(value: str) -> str:
    """Lower-case ASCII fold for search and usernames: diacritics dropped, `đ` → `d`."""
    if value.isascii():  # codes, numbers, names typed without accents: nothing to decompose
        return _SPACES.sub(" ", value.lower()).strip()
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
