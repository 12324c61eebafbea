"""Every quiz shipped in courses/ parses (with its GIFT bank, if any) and has a real bank of questions."""

from __future__ import annotations

from pathlib import Path

from app.quizzes.bank import load_quiz_file

COURSES = Path(__file__).resolve().parents[2] / "courses"
MIN_QUESTIONS = 10


def test_every_course_quiz_parses_and_has_at_least_ten_questions() -> None:
    # Courses arrive on their own branch; until then there is nothing to check, and that is not a failure.
    for path in sorted(COURSES.glob("*/quizzes/*.yaml")):
        quiz = load_quiz_file(path)
        assert len(quiz.questions) >= MIN_QUESTIONS, (
            f"{path.relative_to(COURSES)}: {len(quiz.questions)} questions"
        )
        assert quiz.questions_per_attempt >= 1


def test_a_gift_bank_without_settings_is_a_mistake() -> None:
    orphans = [p for p in COURSES.glob("*/quizzes/*.gift") if not p.with_suffix(".yaml").exists()]
    assert not orphans, f"GIFT banks need a quiz YAML with the settings beside them: {orphans}"
