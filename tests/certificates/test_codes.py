"""Certificate codes: unguessable, readable aloud, forgiving when typed back."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from app.certificates import codes
from app.certificates.codes import ALPHABET, CODE_PATTERN, new_certificate_code, normalize_code
from app.core.errors import Invalid


def test_format_is_four_groups_of_four_crockford_symbols() -> None:
    code = new_certificate_code()
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}", code), code
    assert CODE_PATTERN.match(code)
    assert not set(code) & set("ILOU")


def test_alphabet_is_crockford_base32() -> None:
    assert len(ALPHABET) == 32 == len(set(ALPHABET))
    assert set(ALPHABET) == set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") - set("ILOU")


def test_codes_carry_80_bits_from_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[int] = []

    def randbits(k: int) -> int:
        asked.append(k)
        return 0 if len(asked) == 1 else (1 << k) - 1

    monkeypatch.setattr(codes.secrets, "randbits", randbits)
    assert new_certificate_code() == "0000-0000-0000-0000"
    assert new_certificate_code() == "ZZZZ-ZZZZ-ZZZZ-ZZZZ"
    assert asked == [80, 80]


def test_codes_are_unique_and_every_symbol_is_used_everywhere() -> None:
    batch = [new_certificate_code() for _ in range(20_000)]
    assert len(set(batch)) == len(batch)
    for position in range(19):
        if position % 5 == 4:
            continue
        seen = Counter(code[position] for code in batch)
        assert set(seen) == set(ALPHABET), position


@pytest.mark.parametrize(
    "typed",
    [
        "7KQ2-M9XD-4HNB-V0TE",
        "7kq2-m9xd-4hnb-v0te",
        "7KQ2M9XD4HNBV0TE",
        " 7KQ2 M9XD 4HNB V0TE ",
        "7KQ2–M9XD—4HNB-V0TE",  # dashes a word processor made
        "7KQ2.M9XD.4HNB.V0TE",
        "7KQ2-M9XD-4HNB-VOTE",  # O for 0
        "７ＫＱ２-Ｍ９ＸＤ-４ＨＮＢ-Ｖ０ＴＥ",  # full-width, from some input methods
    ],
)
def test_normalize_accepts_what_people_type(typed: str) -> None:
    assert normalize_code(typed) == "7KQ2-M9XD-4HNB-V0TE"


def test_normalize_maps_i_and_l_to_one() -> None:
    assert normalize_code("I1L1-il11-0o0O-ABCD") == "1111-1111-0000-ABCD"


def test_normalize_round_trips_fresh_codes() -> None:
    for _ in range(200):
        code = new_certificate_code()
        assert normalize_code(code.lower().replace("-", "")) == code


@pytest.mark.parametrize(
    "typed",
    ["", "   ", "7KQ2-M9XD-4HNB", "7KQ2-M9XD-4HNB-V0TE-1", "7KQ2-M9XD-4HNB-V0TU", "7KQ2/M9XD/4HNB/V0TE"],
)
def test_normalize_rejects_what_cannot_be_a_code(typed: str) -> None:
    with pytest.raises(Invalid) as exc:
        normalize_code(typed)
    assert exc.value.code == "certificate_code"
