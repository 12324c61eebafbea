"""Vietnamese text: NFC in, diacritic folding, phone numbers."""

from __future__ import annotations

import unicodedata

import pytest

from app.core.text import fold, nfc, normalize_phone, normalize_username


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
