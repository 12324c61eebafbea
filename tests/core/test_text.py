"""Vietnamese text: NFC in, diacritic folding, phone numbers."""

from __future__ import annotations

import unicodedata

import pytest

from app.core.text import fold, nfc, normalise_tones, normalize_phone, normalize_username


def test_nfc_joins_decomposed_vietnamese() -> None:
    decomposed = unicodedata.normalize("NFD", "Nguyễn Văn An")
    assert decomposed != "Nguyễn Văn An"
    assert nfc("  " + decomposed + "  ") == "Nguyễn Văn An"


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("An toàn", "an toan"),
        ("Đặng Thị Hương", "dang thi huong"),
        ("ĐỨC", "duc"),
        ("Quảng  Ngãi", "quang ngai"),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded
    assert fold(unicodedata.normalize("NFD", text)) == folded


@pytest.mark.parametrize(
    ("raw", "phone"),
    [
        ("+84 912 345 678", "0912345678"),
        ("0912.345.678", "0912345678"),
        ("84912345678", "0912345678"),
        ("912345678", "0912345678"),
        ("(+84) 386-123-456", "0386123456"),
    ],
)
def test_phone_normalised(raw: str, phone: str) -> None:
    assert normalize_phone(raw) == phone


@pytest.mark.parametrize("raw", ["12345", "0212345678", "09123456789", "abc", "+1 415 555 0100"])
def test_bad_phone_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        normalize_phone(raw)


def test_username_folds_diacritics() -> None:
    assert normalize_username("Đức.Nguyễn") == "duc.nguyen"
    with pytest.raises(ValueError):
        normalize_username("a b;c")


@pytest.mark.parametrize(
    ("old_style", "new_style"),
    [
        ("Hòa", "Hoà"),
        ("Khánh Hòa", "Khánh Hoà"),
        ("thủy lợi", "thuỷ lợi"),
        ("sức khỏe", "sức khoẻ"),
        ("HÓA ĐƠN", "HOÁ ĐƠN"),
        ("Phường An Hòa", "Phường An Hoà"),
    ],
)
def test_tone_placement_is_normalised(old_style: str, new_style: str) -> None:
    assert normalise_tones(old_style) == normalise_tones(new_style) == new_style
    assert normalise_tones(unicodedata.normalize("NFD", old_style)) == new_style


@pytest.mark.parametrize(
    "word",
    ["quý", "quả", "giá", "gì", "giường", "người", "khuỷu", "ngoài", "hoàng", "mùa", "tài", "Thượng", "Thạnh",
     "Đắk Lắk", "của", "được", "nghiêng", "Quỳnh"],
)  # fmt: skip
def test_words_already_spelled_the_one_way_are_left_alone(word: str) -> None:
    assert normalise_tones(word) == word


def test_different_tones_stay_different() -> None:
    assert normalise_tones("Thượng Thanh") != normalise_tones("Thường Thạnh")
    assert normalise_tones("bàn") != normalise_tones("bán")
