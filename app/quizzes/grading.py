"""Drawing, shuffling, the browser's view of a question, and grading: pure functions, server side only.

Grading rules (SPEC §6: grading on the server only), as Moodle grades each kind; a question earns a
fraction of its points:
- single, true_false: the chosen option's fraction — 1 for a right option (every `=` answer of a GIFT file),
  its weight for a partially right one (`~%50%`), possibly negative (`~%-50%`: a penalty).
- multiple: with weights (GIFT `~%50%`, a file's `weight:`), the sum of the chosen options' weights, kept
  between 0 and 1 (Moodle); without weights (`correct: true` options), all-or-nothing: right iff the chosen
  set is the set of right options, so ticking every box never earns points.
- short: the first answer that matches the typed text decides (its weight). Texts match after NFC, case
  folding, trimming and collapsing inner white space (`"  VNeID "` == `"vneid"`); `*` in an answer stands for
  any run of characters (`Hà *` accepts "Hà Nội"; `\\*` is a star). Diacritics matter: another tone mark
  is another word (`"Hà Nội"` ≠ `"Ha Noi"`, `"bàn"` ≠ `"bán"`); only the tone mark's *position* is ignored
  (`"hoà"` == `"hòa"`, `"thuỷ"` == `"thủy"`: both are correct Vietnamese, app.core.text.normalise_tones).
- numerical: the first answer whose range (value ± tolerance) holds the typed number decides (`*`: any
  number); `3,14` and `3.14` are the same number.
- matching: the share of prompts matched with their right choice.
- The attempt's score is the sum of the questions' points earned, never below 0, rounded to 2 decimals.
- An answer that is missing, malformed, names an unknown option or is too long earns nothing; it never raises.
  Answers for questions that are not in the attempt are ignored.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, cast

from app.core.text import nfc, normalise_tones, printable
from app.quizzes.bank import Answer, Option, Question, parse_number
from app.quizzes.constants import (
    CHOICE_KINDS,
    DEFAULT_PASS_PERCENT,
    MAX_OPTIONS,
    MAX_SHORT_ANSWER_LENGTH,
    MAX_WEIGHT,
    QuestionKind,
    TextFormat,
)

_SPACES = re.compile(r"\s+")
_STARS = re.compile(r"(?<!\\)\*+")
# Floating point slack when a typed number sits exactly on the edge of a tolerance (Moodle allows the same).
_EPSILON = 1e-9


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
    if question.kind not in ("single", "multiple", "matching"):
        return question
    options = list(question.options)
    rng.shuffle(options)
    return replace(question, options=tuple(options))


def public_question(question: Question) -> dict[str, Any]:
    """What the browser may see before submission: nothing that tells a right answer from a wrong one (no
    weights, no feedback, no accepted answers; a matching question's prompts without their answers)."""
    return {
        "id": question.id,
        "kind": question.kind,
        "text": question.text,
        "format": question.format,
        "points": question.points,
        "options": [{"id": o.id, "text": o.text} for o in question.options],
        "prompts": [{"id": str(i), "text": a.text} for i, a in enumerate(prompts_of(question), 1)],
    }


def prompts_of(question: Question) -> tuple[Answer, ...]:
    """A matching question's prompts (ids "1", "2"… by position); none for other kinds."""
    return question.answers if question.kind == "matching" else ()


def short_answer_key(text: str) -> str:
    """The form short answers are compared in: NFC, case-folded, spaces collapsed, tone marks placed by one
    rule (so both spellings of `hoà` compare equal)."""
    return normalise_tones(_SPACES.sub(" ", nfc(text).casefold()).strip())


def _matches_short(answer: str, typed_key: str) -> bool:
    """Moodle's comparison with wildcards: `*` is any run of characters, `\\*` a star."""
    if answer == "*":
        return True
    if "*" not in answer:
        return short_answer_key(answer) == typed_key
    parts = [short_answer_key(part.replace("\\*", "*")) for part in _STARS.split(answer)]
    pattern = ".*".join(re.escape(part) for part in parts)
    return re.fullmatch(pattern, typed_key, flags=re.DOTALL) is not None


@dataclass(frozen=True, slots=True)
class QuestionResult:
    question_id: str
    fraction: float  # the share of the question's points earned (negative: a penalty)
    points: float  # earned: fraction × the question's points
    max_points: int

    @property
    def correct(self) -> bool:
        return self.fraction >= 1 - _EPSILON

    @property
    def state(self) -> str:
        """right, partial or wrong: what the review says."""
        if self.correct:
            return "right"
        return "partial" if self.fraction > _EPSILON else "wrong"


@dataclass(frozen=True, slots=True)
class GradeResult:
    score: float
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
    if not isinstance(answer, str) or len(answer) > MAX_SHORT_ANSWER_LENGTH or not answer.strip():
        return None
    return answer


def matching_answer(question: Question, answer: object) -> Answer | None:
    """The answer (short, numerical) that decides a typed response's credit: the first that matches."""
    text = _typed_text(answer)
    if text is None:
        return None
    if question.kind == "numerical":
        value = parse_number(text)
        if value is None:
            return None
        for candidate in question.answers:
            if candidate.text == "*":
                return candidate
            target = parse_number(candidate.text)
            if target is not None and abs(value - target) <= candidate.tolerance + _EPSILON * max(
                1, abs(target)
            ):
                return candidate
        return None
    key = short_answer_key(text)
    return next((a for a in question.answers if _matches_short(a.text, key)), None)


def _choice_fraction(question: Question, chosen: frozenset[str]) -> float:
    options = [o for o in question.options if o.id in chosen]
    if not chosen or len(options) != len(chosen):
        return 0.0  # nothing chosen, or an option that is not in the question
    if question.kind == "multiple":
        if question.weighted:
            return min(max(sum(o.fraction for o in options), 0.0), 1.0)
        return 1.0 if chosen == question.correct_option_ids else 0.0
    return options[0].fraction if len(options) == 1 else 0.0


def _matching_fraction(question: Question, answer: object) -> float:
    if not isinstance(answer, Mapping):
        return 0.0
    prompts = prompts_of(question)
    right = sum(1 for i, prompt in enumerate(prompts, 1) if answer.get(str(i)) == prompt.option)
    return right / len(prompts) if prompts else 0.0


def fraction(question: Question, answer: object) -> float:
    """The share of a question's points an answer earns (see the module's rules); never raises."""
    if question.kind in ("short", "numerical"):
        found = matching_answer(question, answer)
        return found.weight / MAX_WEIGHT if found is not None else 0.0
    if question.kind == "matching":
        return _matching_fraction(question, answer)
    chosen = _chosen_ids(answer)
    return _choice_fraction(question, chosen) if chosen is not None else 0.0


def answer_feedback(question: Question, answer: object) -> list[str]:
    """The feedback an answer earned, as Moodle shows it in the review: the chosen options' feedback, or the
    feedback of the short or numerical answer that matched."""
    if question.kind in ("short", "numerical"):
        found = matching_answer(question, answer)
        return [found.feedback] if found is not None and found.feedback else []
    chosen = _chosen_ids(answer) if question.kind in CHOICE_KINDS else None
    return [o.feedback for o in question.options if chosen and o.id in chosen and o.feedback]


def is_correct(question: Question, answer: object) -> bool:
    """Whether an answer earns the question's full points."""
    return fraction(question, answer) >= 1 - _EPSILON


def grade(
    questions: Sequence[Question],
    answers: Mapping[str, object] | None,
    *,
    pass_percent: float = DEFAULT_PASS_PERCENT,
) -> GradeResult:
    """Grade an attempt: `answers` maps question id → option ids (a list), typed text (short, numerical) or
    prompt id → option id (matching)."""
    if not isinstance(answers, Mapping):
        answers = {}
    results = []
    for question in questions:
        share = fraction(question, answers.get(question.id))
        results.append(QuestionResult(question.id, share, share * question.points, question.points))
    score = round(max(sum(r.points for r in results), 0.0), 2)
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


def option_data(o: Option) -> dict[str, Any]:
    """An option with what tells it right or wrong (server side, or a review after submission)."""
    data: dict[str, Any] = {"id": o.id, "text": o.text, "correct": o.correct}
    if o.weight is not None:
        data["weight"] = o.weight
    if o.feedback:
        data["feedback"] = o.feedback
    return data


def _answer_json(a: Answer) -> str | dict[str, Any]:
    """A plain accepted answer stays a string (as attempts stored before weights existed)."""
    return a.text if a == Answer(a.text) else answer_data(a)


def answer_data(a: Answer) -> dict[str, Any]:
    """An answer the server compares with (server side, or a review after submission)."""
    data: dict[str, Any] = {"text": a.text, "weight": a.weight}
    if a.feedback:
        data["feedback"] = a.feedback
    if a.tolerance:
        data["tolerance"] = a.tolerance
    if a.option:
        data["option"] = a.option
    return data


def question_to_json(q: Question) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": q.id,
        "kind": q.kind,
        "text": q.text,
        "options": [option_data(o) for o in q.options],
        "answers": [_answer_json(a) for a in q.answers],
        "explanation": q.explanation,
        "points": q.points,
    }
    if q.format != "markdown":
        data["format"] = q.format
    return data


def _answer_from_json(data: Any) -> Answer:
    if isinstance(data, str):
        return Answer(data)
    return Answer(
        text=str(data["text"]),
        weight=float(data.get("weight", MAX_WEIGHT)),
        feedback=str(data.get("feedback") or ""),
        tolerance=float(data.get("tolerance") or 0.0),
        option=str(data.get("option") or ""),
    )


def question_from_json(data: Mapping[str, Any]) -> Question:
    return Question(
        id=str(data["id"]),
        kind=cast(QuestionKind, data["kind"]),
        text=str(data["text"]),
        options=tuple(
            Option(
                str(o["id"]),
                str(o["text"]),
                bool(o.get("correct")),
                None if o.get("weight") is None else float(o["weight"]),
                str(o.get("feedback") or ""),
            )
            for o in data["options"]
        ),
        answers=tuple(_answer_from_json(a) for a in data.get("answers") or ()),
        explanation=str(data.get("explanation") or ""),
        points=int(data.get("points") or 1),
        format=cast(TextFormat, data.get("format") or "markdown"),
    )


def _clean_matching(question: Question, value: Any) -> dict[str, str] | None:
    if not isinstance(value, Mapping):
        return None
    ids = {str(i) for i in range(1, len(prompts_of(question)) + 1)}
    return {
        key: printable(choice[:_MAX_OPTION_ID])
        for key, choice in value.items()
        if key in ids and isinstance(choice, str)
    }


def clean_answers(questions: Sequence[Question], raw: Mapping[str, Any] | None) -> dict[str, Any]:
    """Keep answers to the attempt's questions only, bounded in size; grading decides what is right."""
    answers: dict[str, Any] = {}
    for q in questions:
        value = (raw or {}).get(q.id)
        if value is None:
            continue
        if q.kind in ("short", "numerical"):
            if isinstance(value, list) and len(value) == 1:
                value = value[0]
            if isinstance(value, str):
                # One character over the limit is kept, so an over-long answer still grades as wrong.
                answers[q.id] = printable(value[: MAX_SHORT_ANSWER_LENGTH + 1])
            continue
        if q.kind == "matching":
            matched = _clean_matching(q, value)
            if matched is not None:
                answers[q.id] = matched
            continue
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list) and q.kind in CHOICE_KINDS:
            answers[q.id] = [printable(v[:_MAX_OPTION_ID]) for v in value if isinstance(v, str)][:MAX_OPTIONS]
    return answers
