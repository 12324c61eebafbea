"""Drawing, shuffling, the browser's view of a question, and grading: pure functions, server side only.

Grading rules (SPEC §6: grading on the server only; a question is right or wrong):
- single, true_false: right iff the learner chose exactly the right option.
- multiple: all-or-nothing: right iff the chosen set equals the set of right options. No partial credit, so
  ticking every box never earns points, and the score stays a plain count of points that learners understand.
- short: right iff the typed text matches an accepted answer after NFC, case folding, trimming and collapsing
  inner white space (`"  VNeID "` == `"vneid"`). Diacritics matter: a Vietnamese word with another tone mark
  is another word (`"Hà Nội"` ≠ `"Ha Noi"`, `"bàn"` ≠ `"bán"`). Only the tone mark's *position* is ignored,
  because both spellings are correct Vietnamese and depend on the keyboard's setting (`"hoà"` == `"hòa"`,
  `"thuỷ"` == `"thủy"`).
- An answer that is missing, malformed, names an unknown option or is too long is wrong; it never raises.
  Answers for questions that are not in the attempt are ignored.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, cast

from app.core.text import nfc, printable
from app.quizzes.bank import Option, Question
from app.quizzes.constants import DEFAULT_PASS_PERCENT, MAX_OPTIONS, MAX_SHORT_ANSWER_LENGTH, QuestionKind

# Combining tone marks of Vietnamese: grave, acute, tilde, hook above, dot below. (Circumflex, breve and horn
# make other letters — â, ă, ơ — and are never moved.)
_TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")
_TOKENS = re.compile(r"\S+")


def draw_questions(bank: Sequence[Question], n: int | None, rng: random.Random) -> list[Question]:
    """`n` questions at random without replacement, in bank order; all of them when n is None or ≥ size."""
    if n is None or n >= len(bank):
        return list(bank)
    if n < 1:
        raise ValueError("n must be at least 1")
    chosen = set(rng.sample(range(len(bank)), n))
    return [q for i, q in enumerate(bank) if i in chosen]


def shuffle_options(question: Question, rng: random.Random) -> Question:
    """A copy with its options in random order; ids stay with their options. True/false keeps Đúng, Sai."""
    if question.kind not in ("single", "multiple"):
        return question
    options = list(question.options)
    rng.shuffle(options)
    return replace(question, options=tuple(options))


def public_question(question: Question) -> dict[str, Any]:
    """What the browser may see before submission: nothing that tells a right answer from a wrong one."""
    return {
        "id": question.id,
        "kind": question.kind,
        "text": question.text,
        "points": question.points,
        "options": [{"id": o.id, "text": o.text} for o in question.options],
    }


def short_answer_key(text: str) -> str:
    """The form short answers are compared in: NFC, case-folded, spaces collapsed, tone marks per word."""
    folded = unicodedata.normalize("NFD", nfc(nfc(text).casefold()))
    return _TOKENS.sub(_tone_last, folded)


def _tone_last(match: re.Match[str]) -> str:
    word = match.group(0)
    tones = "".join(ch for ch in word if ch in _TONE_MARKS)
    return "".join(ch for ch in word if ch not in _TONE_MARKS) + tones


@dataclass(frozen=True, slots=True)
class QuestionResult:
    question_id: str
    correct: bool
    points: int  # earned: the question's points when correct, else 0
    max_points: int


@dataclass(frozen=True, slots=True)
class GradeResult:
    score: int
    max_score: int
    percent: float  # 0–100, rounded to 2 decimals
    passed: bool  # percent >= the quiz's pass_percent
    results: tuple[QuestionResult, ...]

    @property
    def per_question(self) -> dict[str, bool]:
        return {r.question_id: r.correct for r in self.results}


def _chosen_ids(answer: object) -> frozenset[str] | None:
    """The option ids a learner chose, or None when the answer is malformed."""
    if isinstance(answer, str):
        return frozenset((answer,))
    if isinstance(answer, (list, tuple, set, frozenset)) and all(isinstance(a, str) for a in answer):
        return frozenset(answer)
    return None


def _typed_text(answer: object) -> str | None:
    if isinstance(answer, (list, tuple)) and len(answer) == 1:
        answer = answer[0]
    if not isinstance(answer, str) or len(answer) > MAX_SHORT_ANSWER_LENGTH:
        return None
    return answer


def is_correct(question: Question, answer: object) -> bool:
    """Whether one answer is right (see the module's rules); never raises on a malformed answer."""
    if question.kind == "short":
        text = _typed_text(answer)
        if text is None or not text.strip():
            return False
        key = short_answer_key(text)
        return any(key == short_answer_key(accepted) for accepted in question.answers)
    chosen = _chosen_ids(answer)
    if not chosen:
        return False
    right = question.correct_option_ids
    if question.kind == "multiple":
        return chosen == right
    return len(chosen) == 1 and chosen == right


def grade(
    questions: Sequence[Question],
    answers: Mapping[str, object] | None,
    *,
    pass_percent: float = DEFAULT_PASS_PERCENT,
) -> GradeResult:
    """Grade an attempt: `answers` maps question id → option ids (a list) or typed text (short answers)."""
    if not isinstance(answers, Mapping):
        answers = {}
    results = []
    for question in questions:
        correct = is_correct(question, answers.get(question.id))
        results.append(
            QuestionResult(question.id, correct, question.points if correct else 0, question.points)
        )
    score = sum(r.points for r in results)
    max_score = sum(r.max_points for r in results)
    percent = round(100 * score / max_score, 2) if max_score else 0.0
    return GradeResult(
        score=score,
        max_score=max_score,
        percent=percent,
        passed=max_score > 0 and percent >= pass_percent,
        results=tuple(results),
    )


_MAX_OPTION_ID = 64

# Attempts store the questions they drew (with the right answers) as JSON: grading uses that snapshot.


def question_to_json(q: Question) -> dict[str, Any]:
    return {
        "id": q.id,
        "kind": q.kind,
        "text": q.text,
        "options": [{"id": o.id, "text": o.text, "correct": o.correct} for o in q.options],
        "answers": list(q.answers),
        "explanation": q.explanation,
        "points": q.points,
    }


def question_from_json(data: Mapping[str, Any]) -> Question:
    return Question(
        id=str(data["id"]),
        kind=cast(QuestionKind, data["kind"]),
        text=str(data["text"]),
        options=tuple(Option(str(o["id"]), str(o["text"]), bool(o.get("correct"))) for o in data["options"]),
        answers=tuple(str(a) for a in data.get("answers") or ()),
        explanation=str(data.get("explanation") or ""),
        points=int(data.get("points") or 1),
    )


def clean_answers(questions: Sequence[Question], raw: Mapping[str, Any] | None) -> dict[str, Any]:
    """Keep answers to the attempt's questions only, bounded in size; grading decides what is right."""
    answers: dict[str, Any] = {}
    for q in questions:
        value = (raw or {}).get(q.id)
        if value is None:
            continue
        if q.kind == "short":
            if isinstance(value, list) and len(value) == 1:
                value = value[0]
            if isinstance(value, str):
                # One character over the limit is kept, so an over-long answer still grades as wrong.
                answers[q.id] = printable(value[: MAX_SHORT_ANSWER_LENGTH + 1])
            continue
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list):
            answers[q.id] = [printable(v[:_MAX_OPTION_ID]) for v in value if isinstance(v, str)][:MAX_OPTIONS]
    return answers
