"""Moodle's own GIFT files (tests/fixtures/moodle_gift, GPL-3.0) read as Moodle's importer reads them: kinds,
answers, weights and feedback; then graded as Moodle grades them, and written back to GIFT."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.errors import Invalid
from app.core.i18n import translate
from app.quizzes.bank import Question
from app.quizzes.gift import export_gift, parse_gift
from app.quizzes.grading import answer_feedback, fraction

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "moodle_gift"
EXAMPLES = (FIXTURES / "examples.txt").read_text(encoding="utf-8")
MOODLE_FIXTURE = (FIXTURES / "questions.gift.txt").read_text(encoding="utf-8")


def by_line(questions: tuple[Question, ...]) -> dict[int, Question]:
    return {q.line or 0: q for q in questions}


@pytest.fixture(scope="module")
def examples() -> dict[int, Question]:
    return by_line(parse_gift(EXAMPLES))


def test_every_example_of_moodle_imports(examples: dict[int, Question]) -> None:
    assert len(examples) == 43
    kinds = [q.kind for q in examples.values()]
    assert (kinds.count("single"), kinds.count("multiple"), kinds.count("true_false")) == (16, 2, 5)
    assert (kinds.count("short"), kinds.count("numerical"), kinds.count("matching")) == (9, 8, 3)


def test_multiple_choice_and_missing_word(examples: dict[int, Question]) -> None:
    q = examples[10]  # Grant is {~buried =entombed ~living} in Grant's tomb.
    assert q.kind == "single" and q.text == "Grant is _____ in Grant's tomb."
    assert [(o.text, o.correct) for o in q.options] == [
        ("buried", False),
        ("entombed", True),
        ("living", False),
    ]


def test_numerical_with_tolerance_range_and_weighted_answers(examples: dict[int, Question]) -> None:
    assert [(a.text, a.tolerance) for a in examples[16].answers] == [("1822", 1)]  # {#1822:1}
    assert [(a.text, a.tolerance) for a in examples[72].answers] == [("3.1415", 0.0005)]
    assert [(a.text, a.tolerance) for a in examples[74].answers] == [("3.1415", 0.0005)]  # {#3.141..3.142}
    assert examples[74].text == "What is the value of pi (to 3 decimal places)? _____."
    weighted = examples[202]
    assert [(a.text, a.tolerance, a.weight) for a in weighted.answers] == [("1822", 0, 100), ("1822", 2, 50)]
    assert weighted.answers[0].feedback == "Correct! 100% credit"


def test_matching(examples: dict[int, Question]) -> None:
    q = examples[61]
    assert q.kind == "matching"
    pairs = {a.text: q.option(a.option).text for a in q.answers}  # type: ignore[union-attr]
    assert pairs == {"Canada": "Ottawa", "Italy": "Rome", "Japan": "Tokyo", "India": "New Delhi"}


def test_partial_credit_feedback_and_repeated_titles(examples: dict[int, Question]) -> None:
    single = examples[117]  # ::Jesus' hometown:: … {~Jerusalem ~%25%Bethlehem ~%50%Galilee =Nazareth}.
    assert single.id == "jesus-hometown" and single.kind == "single"
    assert single.text == "Jesus Christ was from _____."
    assert [(o.text, o.weight) for o in single.options] == [
        ("Jerusalem", 0),
        ("Bethlehem", 25),
        ("Galilee", 50),
        ("Nazareth", 100),
    ]
    assert single.options[1].feedback == "He was born here, but not raised here."
    short = examples[123]  # the same title again: a short answer with =%75%
    assert short.id == "jesus-hometown-2" and short.kind == "short"
    assert [(a.text, a.weight) for a in short.answers] == [
        ("Nazareth", 100),
        ("Nazereth", 75),
        ("Bethlehem", 25),
    ]


def test_multiple_answers_with_penalties(examples: dict[int, Question]) -> None:
    q = examples[136]
    assert q.kind == "multiple"
    assert [(o.text, o.weight) for o in q.options] == [
        ("No one", -50),
        ("Grant", 50),
        ("Grant's wife", 50),
        ("Grant's father", -50),
    ]


def test_control_characters(examples: dict[int, Question]) -> None:
    assert [o.text for o in examples[143].options] == ["= 2 + 2", "= 2 + 3", "= 2 + 4"]
    q = examples[148]
    assert [o.text for o in q.options] == ["~", "=", "#", "{", "}", "\\"]
    assert q.correct_option_ids == {"f"}


def test_moodles_import_fixture_refuses_its_essay_with_a_reason() -> None:
    with pytest.raises(Invalid) as exc:
        parse_gift(MOODLE_FIXTURE)
    text = translate("en", exc.value.message, **exc.value.params)
    assert text.startswith("Line 2: essay questions ({}) are not imported")


@pytest.fixture(scope="module")
def fixture() -> dict[str, Question]:
    return {q.id: q for q in parse_gift(MOODLE_FIXTURE.replace("::Q8:: How are you? {}", ""))}


def test_moodles_import_fixture_without_its_essay(fixture: dict[str, Question]) -> None:
    assert list(fixture) == [
        "moodle-activities",
        "Q2",
        "colours",
        "Q5",
        "Shortanswer",
        "Q1",
        "2-08-tsl",
        "2-08-tsl-2",
    ]
    match = fixture["moodle-activities"]
    assert match.kind == "matching" and match.format == "html"
    assert match.text == "Match the <b>activity</b> to the description."
    assert [o.text for o in match.options] == ["Forum", "Choice", "Database", "Wiki", "Chat"]  # Chat: extra
    assert len(match.answers) == 4
    q2 = fixture["Q2"]
    assert [(o.text, o.correct, o.feedback) for o in q2.options] == [
        ("yellow", True, "right; good!"),
        ("red", False, "wrong, it's yellow"),
        ("blue", False, "wrong, it's yellow"),
    ]
    assert [o.weight for o in fixture["colours"].options] == [50, -100, 50, -100]
    q5 = fixture["Q5"]
    assert q5.kind == "numerical"
    assert [(a.text, a.tolerance, a.weight, a.feedback) for a in q5.answers] == [
        ("3", 2, 100, ""),
        ("*", 0, 0, "Completely wrong"),
    ]
    assert [(a.text, a.weight) for a in fixture["Shortanswer"].answers] == [
        ("Frog", 100),
        ("Cat", 50),
        ("*", 0),
    ]
    q1 = fixture["Q1"]
    assert q1.correct_option_ids == {"false"}
    assert q1.explanation == "This is, of course, a Hitchiker's Guide to the Galaxy reference."


@pytest.mark.parametrize(
    ("question_id", "answer", "expected"),
    [
        ("Q2", ["a"], 1.0),
        ("Q2", ["b"], 0.0),
        ("colours", ["a", "c"], 1.0),
        ("colours", ["a"], 0.5),
        ("colours", ["a", "b"], 0.0),  # 0.5 - 1: never below zero
        ("colours", ["a", "b", "c", "d"], 0.0),  # ticking every box earns nothing
        ("Q5", "3", 1.0),
        ("Q5", "1", 1.0),  # 3 ± 2
        ("Q5", "5,0", 1.0),
        ("Q5", "6", 0.0),
        ("Q5", "ba", 0.0),
        ("Shortanswer", "frog", 1.0),
        ("Shortanswer", " CAT ", 0.5),
        ("Shortanswer", "dog", 0.0),  # `*` matches: its weight is 0
        ("Q1", ["false"], 1.0),
        ("Q1", ["true"], 0.0),
    ],
)
def test_graded_as_moodle_grades(
    fixture: dict[str, Question], question_id: str, answer: object, expected: float
) -> None:
    assert fraction(fixture[question_id], answer) == pytest.approx(expected)


def test_matching_is_graded_by_the_share_of_right_pairs(fixture: dict[str, Question]) -> None:
    q = fixture["moodle-activities"]
    right = {str(i): a.option for i, a in enumerate(q.answers, 1)}
    assert fraction(q, right) == 1.0
    assert fraction(q, {**right, "1": "e"}) == 0.75
    assert fraction(q, {"1": right["1"]}) == 0.25
    assert fraction(q, ["a", "b"]) == 0.0


def test_the_feedback_an_answer_earns(fixture: dict[str, Question]) -> None:
    assert answer_feedback(fixture["Q2"], ["b"]) == ["wrong, it's yellow"]
    assert answer_feedback(fixture["Shortanswer"], "cat") == ["What is it with Moodlers and cats?"]
    assert answer_feedback(fixture["Shortanswer"], "dog") == ["Completely wrong"]
    assert answer_feedback(fixture["Q5"], "9") == ["Completely wrong"]
    assert answer_feedback(fixture["Q1"], ["true"]) == ["42 is the Ultimate Answer."]


def test_export_reads_back_to_the_same_questions() -> None:
    for text in (EXAMPLES, MOODLE_FIXTURE.replace("::Q8:: How are you? {}", "")):
        bank = parse_gift(text)
        again = parse_gift(export_gift(bank))
        assert again == bank
