"""Grading every kind of question, drawing and shuffling, and what the browser is allowed to see."""

from __future__ import annotations

import json
import random
import unicodedata
from collections import Counter

import pytest

from app.quizzes.bank import Option, Question, parse_quiz_yaml
from app.quizzes.grading import (
    draw_questions,
    grade,
    is_correct,
    public_question,
    short_answer_key,
    shuffle_options,
)

SINGLE = Question(
    id="q1",
    kind="single",
    text="Ứng dụng định danh điện tử quốc gia?",
    options=(Option("a", "Zalo"), Option("b", "VNeID", correct=True), Option("c", "Facebook")),
    explanation="BÍ-MẬT-GIẢI-THÍCH",
)
MULTIPLE = Question(
    id="q2",
    kind="multiple",
    text="Cách bảo vệ tài khoản?",
    options=(
        Option("a", "Xác thực hai yếu tố", correct=True),
        Option("b", "Mật khẩu mạnh", correct=True),
        Option("c", "Chia sẻ OTP"),
        Option("d", "Dùng ngày sinh làm mật khẩu"),
    ),
    points=2,
)
TRUE_FALSE = parse_quiz_yaml(
    "title: T\nquestions:\n"
    "  - {id: q3, kind: true_false, text: 'Công an gọi điện bắt chuyển tiền.', answer: false}\n"
).questions[0]
SHORT = Question(
    id="q4",
    kind="short",
    text="Thủ đô của Việt Nam?",
    answers=("Hà Nội", "thành phố Hà Nội", "BÍ-MẬT-ĐÁP-ÁN"),
    explanation="BÍ-MẬT-GIẢI-THÍCH",
)
SHORT_VNEID = Question(id="q5", kind="short", text="Ứng dụng?", answers=("VNeID",))
ALL = [SINGLE, MULTIPLE, TRUE_FALSE, SHORT, SHORT_VNEID]


@pytest.mark.parametrize(
    ("answer", "correct"),
    [
        (["b"], True),
        ("b", True),  # a radio button's single value
        (("b",), True),
        (["b", "b"], True),  # the same option twice is still that option
        (["a"], False),
        (["a", "b"], False),
        ([], False),
        (None, False),
        (["z"], False),
        (["B"], False),
        ([1], False),
        (1, False),
        ({"b": True}, False),
        ([["b"]], False),
        ("", False),
    ],
)
def test_single_choice(answer: object, correct: bool) -> None:
    assert is_correct(SINGLE, answer) is correct


@pytest.mark.parametrize(
    ("answer", "correct"),
    [
        (["false"], True),
        ("false", True),
        (["true"], False),
        (["true", "false"], False),
        (["sai"], False),
        ([False], False),
        (False, False),
    ],
)
def test_true_false(answer: object, correct: bool) -> None:
    assert is_correct(TRUE_FALSE, answer) is correct


@pytest.mark.parametrize(
    ("answer", "correct"),
    [
        (["a", "b"], True),
        (["b", "a"], True),
        ({"a", "b"}, True),
        (["a"], False),  # all-or-nothing: half right is wrong
        (["a", "b", "c"], False),
        (["a", "b", "c", "d"], False),  # ticking every box never pays
        (["a", "b", "x"], False),
        ([], False),
        ("a", False),
        (["a", 2], False),
    ],
)
def test_multiple_choice_is_all_or_nothing(answer: object, correct: bool) -> None:
    assert is_correct(MULTIPLE, answer) is correct


@pytest.mark.parametrize(
    ("answer", "correct"),
    [
        ("Hà Nội", True),
        ("  hà   nội ", True),
        ("HÀ NỘI", True),
        ("hà\tnội\n", True),
        (unicodedata.normalize("NFD", "Hà Nội"), True),
        ("Thành phố Hà Nội", True),
        (["Hà Nội"], True),  # a one-item list, as some forms send
        ("Ha Noi", False),  # diacritics matter
        ("Hà Nôi", False),
        ("Hả Nội", False),
        ("HaNoi", False),
        ("Hà Nội.", False),
        ("", False),
        ("   ", False),
        (None, False),
        (["Hà Nội", "x"], False),
        (42, False),
        ("Hà Nội" * 200, False),
    ],
)
def test_short_answer(answer: object, correct: bool) -> None:
    assert is_correct(SHORT, answer) is correct


def test_short_answer_example_from_the_brief() -> None:
    assert is_correct(SHORT_VNEID, "  VNeID ")
    assert is_correct(SHORT_VNEID, "vneid")
    assert not is_correct(SHORT_VNEID, "vne id")


@pytest.mark.parametrize(
    ("typed", "accepted"),
    [("hoà bình", "hòa bình"), ("thuỷ lợi", "thủy lợi"), ("sức khoẻ", "sức khỏe"), ("Hoá đơn", "hóa đơn")],
)
def test_tone_mark_position_is_a_spelling_choice_not_another_word(typed: str, accepted: str) -> None:
    assert typed != accepted
    question = Question(id="q", kind="short", text="?", answers=(accepted,))
    assert is_correct(question, typed)
    assert short_answer_key(typed) == short_answer_key(accepted)


@pytest.mark.parametrize(("typed", "accepted"), [("bàn", "bán"), ("ma", "mà"), ("hoa", "hòa"), ("Đà", "Da")])
def test_a_different_tone_or_letter_is_another_word(typed: str, accepted: str) -> None:
    assert short_answer_key(typed) != short_answer_key(accepted)


def test_grade_adds_points_and_rounds_the_percent() -> None:
    answers = {"q1": ["b"], "q2": ["a", "b"], "q3": ["true"], "q4": "ha noi", "q5": "VNeID"}
    result = grade(ALL, answers, pass_percent=50)
    assert result.per_question == {"q1": True, "q2": True, "q3": False, "q4": False, "q5": True}
    assert (result.score, result.max_score) == (4, 6)
    assert result.percent == 66.67
    assert result.passed
    assert [(r.points, r.max_points) for r in result.results] == [(1, 1), (2, 2), (0, 1), (0, 1), (1, 1)]


def test_pass_mark_is_inclusive_and_uses_the_rounded_percent() -> None:
    questions = [SINGLE, TRUE_FALSE, SHORT_VNEID]
    two_of_three = {"q1": ["b"], "q3": ["false"]}
    assert grade(questions, two_of_three, pass_percent=66.67).passed
    assert not grade(questions, two_of_three, pass_percent=66.68).passed
    ten = [Question(id=f"t{i}", kind="true_false", text="?", options=TRUE_FALSE.options) for i in range(10)]
    seven = {f"t{i}": ["false"] for i in range(7)}
    result = grade(ten, seven, pass_percent=70)
    assert result.percent == 70.0 and result.passed
    assert not grade(ten, seven, pass_percent=70.01).passed


def test_answers_to_questions_outside_the_attempt_are_ignored() -> None:
    result = grade([SINGLE], {"q1": ["b"], "q2": ["a", "b"], "không-có": ["x"]})
    assert (result.score, result.max_score, result.percent) == (1, 1, 100.0)
    assert result.per_question == {"q1": True}


@pytest.mark.parametrize("answers", [None, {}, [], "q1", {"q1": object()}, {1: ["b"]}])
def test_garbage_answers_score_zero_without_raising(answers: object) -> None:
    result = grade(ALL, answers)  # type: ignore[arg-type]
    assert result.score == 0 and result.max_score == 6 and result.percent == 0.0 and not result.passed


def test_an_empty_attempt_does_not_divide_by_zero() -> None:
    result = grade([], {"q1": ["b"]}, pass_percent=0)
    assert (result.score, result.max_score, result.percent, result.passed) == (0, 0, 0.0, False)


# --- draw and shuffle ------------------------------------------------------------------------------------

BANK = [
    Question(id=f"q{i:02d}", kind="true_false", text=f"Câu {i}", options=TRUE_FALSE.options)
    for i in range(1, 11)
]


@pytest.mark.parametrize("n", [None, 10, 11, 100])
def test_draw_all_keeps_the_bank_order(n: int | None) -> None:
    assert draw_questions(BANK, n, random.Random(1)) == BANK


def test_draw_is_without_replacement_in_bank_order_and_seeded() -> None:
    drawn = draw_questions(BANK, 4, random.Random(42))
    assert len(drawn) == 4 and len({q.id for q in drawn}) == 4
    assert drawn == sorted(drawn, key=BANK.index)
    assert drawn == draw_questions(BANK, 4, random.Random(42))
    assert any(draw_questions(BANK, 4, random.Random(seed)) != drawn for seed in range(5))


def test_every_question_gets_drawn_about_equally_often() -> None:
    rng = random.Random(2026)
    counts: Counter[str] = Counter()
    draws = 2000
    for _ in range(draws):
        counts.update(q.id for q in draw_questions(BANK, 3, rng))
    assert set(counts) == {q.id for q in BANK}
    expected = draws * 3 / len(BANK)  # 600
    assert all(0.85 * expected < c < 1.15 * expected for c in counts.values()), counts


def test_draw_refuses_zero() -> None:
    with pytest.raises(ValueError):
        draw_questions(BANK, 0, random.Random(1))


def test_shuffle_moves_options_with_their_ids_and_is_seeded() -> None:
    shuffled = shuffle_options(MULTIPLE, random.Random(7))
    assert sorted(shuffled.options, key=lambda o: o.id) == list(MULTIPLE.options)
    assert shuffled.correct_option_ids == MULTIPLE.correct_option_ids
    assert shuffled == shuffle_options(MULTIPLE, random.Random(7))
    assert is_correct(shuffled, ["a", "b"])
    assert MULTIPLE.options[0].id == "a"  # the original is untouched


def test_shuffle_puts_each_option_first_sometimes() -> None:
    rng = random.Random(3)
    firsts = Counter(shuffle_options(MULTIPLE, rng).options[0].id for _ in range(400))
    assert set(firsts) == {"a", "b", "c", "d"}
    assert min(firsts.values()) > 60


def test_true_false_and_short_are_never_shuffled() -> None:
    for seed in range(20):
        assert shuffle_options(TRUE_FALSE, random.Random(seed)) is TRUE_FALSE
        assert shuffle_options(SHORT, random.Random(seed)) is SHORT


# --- what the browser sees ------------------------------------------------------------------------------


def test_public_question_has_exactly_the_safe_fields() -> None:
    assert public_question(SINGLE) == {
        "id": "q1",
        "kind": "single",
        "text": "Ứng dụng định danh điện tử quốc gia?",
        "format": "markdown",
        "points": 1,
        "options": [
            {"id": "a", "text": "Zalo"},
            {"id": "b", "text": "VNeID"},
            {"id": "c", "text": "Facebook"},
        ],
        "prompts": [],
    }
    assert public_question(SHORT)["options"] == []
    assert [o["text"] for o in public_question(TRUE_FALSE)["options"]] == ["Đúng", "Sai"]


@pytest.mark.parametrize("question", ALL, ids=lambda q: q.kind)
def test_public_question_leaks_nothing_about_the_answer(question: Question) -> None:
    payload = json.dumps(public_question(question), ensure_ascii=False)
    for forbidden in ('"correct"', '"answers"', '"explanation"', "true", "false", "BÍ-MẬT", "Hà Nội"):
        if forbidden in ("true", "false") and question.kind == "true_false":
            continue  # option ids of a true/false question; both are always sent, in the same order
        assert forbidden not in payload, (forbidden, payload)
    option_shapes = {tuple(sorted(o)) for o in public_question(question)["options"]}
    assert option_shapes <= {("id", "text")}


@pytest.mark.parametrize(
    ("accepted", "typed", "right"),
    [
        ("Hà *", "Hà Nội", True),
        ("Hà *", "hà   nội", True),
        ("*Nội", "Hà Nội", True),
        ("Hoà*", "hòa bình", True),  # tone placement is a spelling choice, wildcard or not
        ("Hà *", "Ha Noi", False),
        ("a\\*b", "a*b", True),  # an escaped star is a star
        ("a\\*b", "axb", False),
        ("*", "bất cứ gì", True),
    ],
)
def test_short_answers_with_moodles_wildcard(accepted: str, typed: str, right: bool) -> None:
    question = Question(id="q", kind="short", text="?", answers=(accepted,))
    assert is_correct(question, typed) is right


def test_numerical_answers_read_a_decimal_comma_and_take_the_first_matching_range() -> None:
    from app.quizzes.bank import Answer
    from app.quizzes.grading import fraction

    question = Question(
        id="q",
        kind="numerical",
        text="Số pi?",
        answers=(
            Answer("3.14", tolerance=0.005),
            Answer("3", weight=50, tolerance=0.5),
            Answer("*", weight=0),
        ),
    )
    assert fraction(question, "3,14") == 1.0
    assert fraction(question, " 3.141 ") == 1.0
    assert fraction(question, "2.7") == 0.5
    assert fraction(question, "10") == 0.0
    assert fraction(question, "ba phẩy mười bốn") == 0.0
    assert fraction(question, "1_000") == 0.0


def test_a_single_choice_penalty_counts_but_an_attempt_never_goes_below_zero() -> None:
    from app.quizzes.bank import Option

    penalty = Question(
        id="p",
        kind="single",
        text="?",
        options=(Option("a", "A", True, 100.0), Option("b", "B", False, -50.0)),
    )
    result = grade([penalty, SINGLE], {"p": ["b"], "q1": ["b"]})
    assert [r.points for r in result.results] == [-0.5, 1.0]
    assert result.score == 0.5
    alone = grade([penalty], {"p": ["b"]})
    assert alone.score == 0 and alone.percent == 0
