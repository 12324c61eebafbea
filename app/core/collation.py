"""Vietnamese collation: the order a Vietnamese reader expects for names and units.

Python's default order is by code point (`Đ` after `Z`, `Â` after `Z`); an accent-stripped order makes `Ân`
sort before `Anh`. Vietnamese dictionaries order letters as

    a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y

(`ă â đ ê ô ơ ư` are letters of their own), then, for words spelled alike, by tone:
ngang, huyền (à), hỏi (ả), ngã (ã), sắc (á), nặng (ạ); then lower case before upper case.

ICU's `vi` collation gives the same order (checked while writing this; PyICU wheels exist on PyPI but add a
~30 MB binary dependency per Python version and platform, for one small rule set we can state and test here).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

ALPHABET = "aăâbcdđeêghiklmnoôơpqrstuưvxy"
_LETTER = {letter: index for index, letter in enumerate(ALPHABET)}
_MODIFIERS = {"\u0306", "\u0302", "\u031b"}  # breve (ă), circumflex (â ê ô), horn (ơ ư)
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}  # huyền hỏi ngã sắc nặng
_SPACE, _DIGITS, _LETTERS, _OTHER = 0, 1, 100, 1000


def _clusters(text: str) -> Iterable[tuple[str, str, int, bool]]:
    """Yield (letter, original base, tone, is upper) per base character with its marks."""
    decomposed = unicodedata.normalize("NFD", text)
    i = 0
    while i < len(decomposed):
        base = decomposed[i]
        i += 1
        modifiers = ""
        tone = 0
        while i < len(decomposed) and unicodedata.combining(decomposed[i]):
            mark = decomposed[i]
            if mark in _MODIFIERS:
                modifiers += mark
            elif mark in _TONES:
                tone = _TONES[mark]
            i += 1
        letter = unicodedata.normalize("NFC", base.lower() + modifiers)
        yield letter, base, tone, base != base.lower()


def sort_key(text: str) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], str]:
    """A key for `sorted()` that orders Vietnamese text as a Vietnamese dictionary does."""
    primary: list[int] = []
    tones: list[int] = []
    cases: list[int] = []
    for letter, _base, tone, upper in _clusters(text.strip()):
        if letter in _LETTER:
            primary.append(_LETTERS + _LETTER[letter])
        elif letter.isspace():
            primary.append(_SPACE)
        elif letter.isdigit():
            primary.append(_DIGITS + int(letter) if letter.isascii() else _OTHER + ord(letter))
        else:
            primary.append(_OTHER + ord(letter))
        tones.append(tone)
        cases.append(1 if upper else 0)
    return tuple(primary), tuple(tones), tuple(cases), text


def person_key(full_name: str) -> tuple[object, ...]:
    """Vietnamese class lists go by given name (the last word), then by the whole name: Nguyễn Văn An comes
    before Lê Thị Bình, as `An` comes before `Bình`."""
    words = full_name.split()
    given = words[-1] if words else ""
    return sort_key(given), sort_key(full_name)


def sorted_vi(items: Iterable[str]) -> list[str]:
    return sorted(items, key=sort_key)
