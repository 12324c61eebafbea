"""Vietnamese collation: letters ă â đ ê ô ơ ư of their own, then tones, then case."""

from __future__ import annotations

import random

from app.core.collation import person_key, sort_key, sorted_vi

# Checked against ICU's `vi` collation (PyICU) when the module was written.
EXPECTED = [
    "a", "à", "ả", "ã", "á", "ạ", "an", "Anh", "ăn", "Ăn", "ân", "Ân", "Bao", "Bảo",
    "Dung", "Đà Nẵng", "Đào", "Điện Biên", "Hà Nội", "Hải Dương", "Hải Phòng", "Hòa Bình", "Huế",
    "Hưng Yên", "Oanh", "Ông", "Ơn", "Út", "Uyên", "Ưng", "Zung",
]  # fmt: skip


def test_vietnamese_alphabet_and_tones() -> None:
    shuffled = EXPECTED[:]
    random.Random(7).shuffle(shuffled)
    assert sorted_vi(shuffled) == EXPECTED


def test_python_default_order_is_wrong_for_vietnamese() -> None:
    assert sorted(["Đào", "Zung", "Dung"]) == ["Dung", "Zung", "Đào"]
    assert sorted_vi(["Đào", "Zung", "Dung"]) == ["Dung", "Đào", "Zung"]


def test_composed_and_decomposed_forms_sort_alike() -> None:
    import unicodedata

    word = "Nguyễn"
    assert sort_key(unicodedata.normalize("NFD", word))[:3] == sort_key(word)[:3]


def test_shorter_word_first_and_digits_before_letters() -> None:
    assert sorted_vi(["Anh", "An", "2 An", "Ân"]) == ["2 An", "An", "Anh", "Ân"]


def test_people_by_given_name_then_full_name() -> None:
    names = ["Lê Thị Bình", "Nguyễn Văn An", "Đặng Minh Châu", "Trần Văn An", "Phạm Thị Ánh"]
    assert sorted(names, key=person_key) == [
        "Nguyễn Văn An",
        "Trần Văn An",
        "Phạm Thị Ánh",
        "Lê Thị Bình",
        "Đặng Minh Châu",
    ]
