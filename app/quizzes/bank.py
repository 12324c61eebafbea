"""Quiz definitions: typed question banks, and the parser for `quizzes/<slug>.yaml` (see courses/README.md).

Everything here is pure: no database, no I/O except `load_quiz_file`. Parsers raise `Invalid` with a message
id that names the line and the question, so an author can fix a file from the error alone.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import yaml

from app.core.errors import N_, Invalid
from app.core.text import clean_text, nfc
from app.quizzes.constants import (
    DEFAULT_PASS_PERCENT,
    DEFAULT_POINTS,
    DEFAULT_SHOW_REVIEW,
    DEFAULT_SHUFFLE_OPTIONS,
    FALSE_OPTION_ID,
    FALSE_TEXT,
    MAX_OPTIONS,
    MAX_POINTS,
    MAX_WEIGHT,
    MIN_PROMPTS,
    MIN_WEIGHT,
    OPTION_IDS,
    QUESTION_ID_PATTERN,
    QUESTION_KINDS,
    SETTING_MAXIMUM,
    TEXT_FORMATS,
    TRUE_OPTION_ID,
    TRUE_TEXT,
    QuestionKind,
    TextFormat,
)

_QUESTION_ID = re.compile(QUESTION_ID_PATTERN)


@dataclass(frozen=True, slots=True)
class Option:
    """A choice of a single, multiple, true/false or matching question."""

    id: str
    text: str
    correct: bool = False
    # Percent of the question's points this choice earns (Moodle's `~%50%`; negative: a penalty). None: by
    # `correct` — full credit or none for a single choice, all-or-nothing for a multiple-answer question.
    weight: float | None = None
    feedback: str = ""  # shown in the review beside this choice when the learner chose it

    @property
    def fraction(self) -> float:
        """The share of the question's points this choice earns when chosen."""
        if self.weight is not None:
            return self.weight / 100
        return 1.0 if self.correct else 0.0


@dataclass(frozen=True, slots=True)
class Answer:
    """An answer the server compares with what the learner gave: a short answer's text (`*` is any run
    of characters), a numerical answer's value (`*`: any number) with its tolerance, or a matching prompt
    with the id of the option that answers it. The first that matches decides the credit, as in Moodle."""

    text: str
    weight: float = 100.0
    feedback: str = ""
    tolerance: float = 0.0  # numerical: the answer matches value ± tolerance
    option: str = ""  # matching: the option id that answers this prompt


@dataclass(frozen=True, slots=True)
class Question:
    """One question of a bank: `options` for single/multiple/true_false (and a matching question's choices),
    `answers` for short, numerical and matching (its prompts)."""

    id: str
    kind: QuestionKind
    text: str
    options: tuple[Option, ...] = ()
    answers: tuple[Answer, ...] = ()
    explanation: str = ""  # Moodle's general feedback: shown in every review
    points: int = DEFAULT_POINTS
    format: TextFormat = "markdown"  # how text, options, prompts and feedback are written
    # Where the question starts in its source file; for messages only, so not part of equality.
    line: int | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if any(isinstance(a, str) for a in self.answers):  # `answers=("VNeID",)`: accepted answers
            answers = tuple(Answer(a) if isinstance(a, str) else a for a in self.answers)
            object.__setattr__(self, "answers", answers)

    @property
    def correct_option_ids(self) -> frozenset[str]:
        return frozenset(o.id for o in self.options if o.correct)

    @property
    def accepted(self) -> tuple[str, ...]:
        """The answers that earn full credit (short, numerical)."""
        return tuple(a.text for a in self.answers if a.weight >= MAX_WEIGHT)

    @property
    def weighted(self) -> bool:
        """Whether choices carry their own weights (partial credit) rather than right/wrong."""
        return any(o.weight is not None for o in self.options)

    def option(self, option_id: str) -> Option | None:
        return next((o for o in self.options if o.id == option_id), None)


@dataclass(frozen=True, slots=True)
class QuizDefinition:
    title: str
    questions: tuple[Question, ...]
    pass_percent: float = DEFAULT_PASS_PERCENT
    time_limit_minutes: int | None = None  # None: no time limit
    max_attempts: int | None = None  # None: unlimited attempts
    draw: int | None = None  # None: every question of the bank in each attempt
    shuffle_options: bool = DEFAULT_SHUFFLE_OPTIONS
    show_review: bool = DEFAULT_SHOW_REVIEW

    @property
    def questions_per_attempt(self) -> int:
        return len(self.questions) if self.draw is None else min(self.draw, len(self.questions))

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)


# --- text helpers -------------------------------------------------------------------------------------------


def block_text(value: str) -> str:
    """The text policy (app.core.text), trailing spaces dropped; keeps line breaks (question text may be
    Markdown)."""
    return "\n".join(line.rstrip() for line in clean_text(value).split("\n")).strip()


def true_false_options(
    answer: bool, *, right_feedback: str = "", wrong_feedback: str = ""
) -> tuple[Option, ...]:
    """Đúng, Sai; each feedback goes with the option that earns it."""
    true_feedback, false_feedback = (
        (right_feedback, wrong_feedback) if answer else (wrong_feedback, right_feedback)
    )
    return (
        Option(TRUE_OPTION_ID, TRUE_TEXT, correct=answer, feedback=true_feedback),
        Option(FALSE_OPTION_ID, FALSE_TEXT, correct=not answer, feedback=false_feedback),
    )


def letter_options(
    items: Sequence[tuple[str, bool]], *, question: str = "?", line: int | str = "?"
) -> tuple[Option, ...]:
    """Options with ids `a`, `b`, `c`… in the order given (at most one per letter)."""
    if len(items) > MAX_OPTIONS:
        raise Invalid(
            N_("Question {question} (line {line}): a question has at most {max} options."),
            max=MAX_OPTIONS,
            question=question,
            line=line,
        )
    return tuple(Option(OPTION_IDS[i], text, correct) for i, (text, correct) in enumerate(items))


# --- checks shared by the YAML and GIFT parsers ---------------------------------------------------------


def check_question(q: Question) -> None:
    """Raise `Invalid` when a question cannot be asked and graded fairly."""
    where: dict[str, Any] = {"question": q.id, "line": q.line or "?"}
    if q.kind not in QUESTION_KINDS:
        raise Invalid(
            N_(
                "Question {question} (line {line}): unknown kind {kind}; use single, multiple, true_false,"
                " short, numerical or matching."
            ),
            code="quiz_kind",
            kind=q.kind,
            **where,
        )
    if not q.text:
        raise Invalid(N_("Question {question} (line {line}): the question text is missing."), **where)
    if not 1 <= q.points <= MAX_POINTS:
        raise Invalid(
            N_("Question {question} (line {line}): points must be a whole number from 1 to {max}."),
            max=MAX_POINTS,
            **where,
        )
    weights = [o.weight for o in q.options if o.weight is not None] + [a.weight for a in q.answers]
    if any(not MIN_WEIGHT <= w <= MAX_WEIGHT for w in weights):
        raise Invalid(
            N_("Question {question} (line {line}): an answer weight is a percentage from -100 to 100."),
            code="quiz_weight",
            **where,
        )
    if q.kind in ("short", "numerical"):
        _check_typed_answers(q, where)
    elif q.kind == "matching":
        _check_matching(q, where)
    else:
        _check_options(q, where)


def _check_typed_answers(q: Question, where: dict[str, Any]) -> None:
    """Short and numerical: answers with text (numbers for numerical), one of them earning credit."""
    if not q.answers or not all(a.text for a in q.answers):
        raise Invalid(
            N_(
                "Question {question} (line {line}): a short-answer question needs at least one"
                " accepted answer."
            ),
            **where,
        )
    if q.kind == "numerical":
        for answer in q.answers:
            if (answer.text != "*" and parse_number(answer.text) is None) or not answer.tolerance >= 0:
                raise Invalid(
                    N_(
                        "Question {question} (line {line}): “{answer}” is not a number (a numerical answer"
                        " is a number, with an optional tolerance of 0 or more)."
                    ),
                    code="quiz_number_answer",
                    answer=answer.text,
                    **where,
                )
    if max(a.weight for a in q.answers) <= 0:
        raise Invalid(
            N_("Question {question} (line {line}): no answer earns any credit."),
            code="quiz_no_credit",
            **where,
        )


def _check_matching(q: Question, where: dict[str, Any]) -> None:
    """At least two prompts, each answered by one of the choices; choices distinct."""
    _check_option_list(q, where)
    ids = {o.id for o in q.options}
    if len(q.answers) < MIN_PROMPTS or any(not a.text or a.option not in ids for a in q.answers):
        raise _too_few_prompts(where)


def _too_few_prompts(where: dict[str, Any]) -> Invalid:
    return Invalid(
        N_(
            "Question {question} (line {line}): a matching question needs at least {min} prompts, each"
            " with its answer."
        ),
        code="quiz_matching",
        min=MIN_PROMPTS,
        **where,
    )


def _check_option_list(q: Question, where: dict[str, Any]) -> None:
    if len(q.options) < 2:
        raise Invalid(
            N_("Question {question} (line {line}): a question needs at least two options."), **where
        )
    if len(q.options) > MAX_OPTIONS:
        raise Invalid(
            N_("Question {question} (line {line}): a question has at most {max} options."),
            max=MAX_OPTIONS,
            **where,
        )
    if len({o.id for o in q.options}) != len(q.options):
        raise Invalid(N_("Question {question} (line {line}): two options have the same id."), **where)
    seen: set[str] = set()
    for option in q.options:
        if not option.text:
            raise Invalid(N_("Question {question} (line {line}): an option has no text."), **where)
        key = nfc(option.text).casefold()
        if key in seen:
            raise Invalid(
                N_("Question {question} (line {line}): the option “{option}” appears twice."),
                option=option.text,
                **where,
            )
        seen.add(key)


def _check_options(q: Question, where: dict[str, Any]) -> None:
    """Single, multiple, true/false: options, and a way to earn full credit."""
    _check_option_list(q, where)
    count = len(q.correct_option_ids)
    if q.kind == "true_false" and count != 1:
        raise Invalid(
            N_(
                "Question {question} (line {line}): a single-choice question needs exactly one correct"
                " option, found {count}."
            ),
            count=count,
            **where,
        )
    if q.kind == "single" and count < 1:
        raise Invalid(
            N_(
                "Question {question} (line {line}): a single-choice question needs at least one option"
                " worth full credit."
            ),
            **where,
        )
    if q.kind == "multiple" and count < 1:
        raise Invalid(
            N_(
                "Question {question} (line {line}): a multiple-choice question needs at least one correct"
                " option."
            ),
            **where,
        )


def parse_number(text: str) -> float | None:
    """A number as learners and authors write it: `1822`, `-3.5`, `3,14` (a decimal comma), `1e3`; spaces
    ignored. Thousands separators are not read (`1.822` is one point eight two two). None: not a number."""
    cleaned = text.strip().replace(" ", "").replace("\u00a0", "")
    if cleaned.count(",") == 1 and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    if "_" in cleaned:
        return None
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def check_bank(questions: Iterable[Question]) -> tuple[Question, ...]:
    """Check every question and that ids are unique; returns the bank as a tuple."""
    bank = tuple(questions)
    first_line: dict[str, int | str] = {}
    for q in bank:
        if not _QUESTION_ID.match(q.id):
            raise Invalid(
                N_(
                    "Line {line}: a question id is text of letters, digits, dots, dashes or underscores,"
                    " such as q01."
                ),
                line=q.line or "?",
            )
        if q.id in first_line:
            raise Invalid(
                N_("Line {line}: the question id {question} is already used on line {first_line}."),
                question=q.id,
                line=q.line or "?",
                first_line=first_line[q.id],
            )
        first_line[q.id] = q.line or "?"
        check_question(q)
    return bank


# --- YAML ---------------------------------------------------------------------------------------------------


class _Mapping(dict[str, Any]):
    """A YAML mapping that remembers the line of itself and of each key (1-based)."""

    line: int
    key_lines: dict[str, int]


class _Loader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> Iterator[_Mapping]:
    data = _Mapping()
    data.line = node.start_mark.line + 1
    data.key_lines = {
        str(key.value): key.start_mark.line + 1 for key, _ in node.value if isinstance(key, yaml.ScalarNode)
    }
    yield data
    data.update(cast(dict[str, Any], loader.construct_mapping(node)))


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)  # type: ignore[arg-type]

_QUIZ_KEYS = {
    "title",
    "pass_percent",
    "time_limit_minutes",
    "max_attempts",
    "draw",
    "shuffle_options",
    "show_review",
    "questions",
}
_ANSWER_KEYS = {"options", "answer", "answers", "pairs", "right_feedback", "wrong_feedback"}
_QUESTION_KEYS = {"id", "kind", "text", "format", "explanation", "points"} | _ANSWER_KEYS
_QUESTION_KEYS |= {"right_feedback", "wrong_feedback"}
_KEYS_BY_KIND = {
    "single": {"options"},
    "multiple": {"options"},
    "true_false": {"answer", "right_feedback", "wrong_feedback"},
    "short": {"answers"},
    "numerical": {"answers"},
    "matching": {"pairs"},
}
_OPTION_KEYS = {"text", "correct", "weight", "feedback"}
_SHORT_ANSWER_KEYS = {"text", "weight", "feedback"}
_NUMERICAL_KEYS = {"value", "tolerance", "min", "max", "weight", "feedback"}
_PAIR_KEYS = {"prompt", "answer"}


def _line(mapping: _Mapping, key: str | None = None) -> int:
    if key is not None and key in mapping.key_lines:
        return mapping.key_lines[key]
    return mapping.line


def _reject_unknown_keys(mapping: _Mapping, allowed: set[str]) -> None:
    for key in mapping:
        if str(key) not in allowed:
            raise Invalid(
                N_("Line {line}: unknown key {key}; allowed here: {allowed}."),
                code="quiz_key",
                line=_line(mapping, str(key)),
                key=str(key),
                allowed=", ".join(sorted(allowed)),
            )


def _text(value: Any, *, line: int, key: str, block: bool = False) -> str:
    """A text value; numbers are accepted as text, but not YAML's true/false/null surprises."""
    if isinstance(value, bool) or value is None or isinstance(value, (list, dict)):
        raise Invalid(N_("Line {line}: write {key} as quoted text."), code="quiz_text", line=line, key=key)
    text = str(value)
    return block_text(text) if block else nfc(text)


def _bool(value: Any, *, line: int, key: str) -> bool:
    if not isinstance(value, bool):
        raise Invalid(N_("Line {line}: {key} must be true or false."), code="quiz_bool", line=line, key=key)
    return value


def _positive_int_or_none(value: Any, *, line: int, key: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= SETTING_MAXIMUM[key]:
        raise Invalid(
            N_("Line {line}: {key} must be a whole number from 1 to {max}, or left out."),
            code="quiz_number",
            line=line,
            key=key,
            max=SETTING_MAXIMUM[key],
        )
    return value


def _parse_yaml(text: str) -> Any:
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise Invalid(
            N_("Line {line}: the file is not valid YAML: {problem}."),
            code="quiz_yaml",
            line=(mark.line + 1) if mark else "?",
            problem=exc.problem or str(exc),
        ) from exc
    except yaml.YAMLError as exc:
        raise Invalid(
            N_("Line {line}: the file is not valid YAML: {problem}."),
            code="quiz_yaml",
            line="?",
            problem=str(exc),
        ) from exc


def _parse_question(raw: Any, position: int, list_line: int) -> Question:
    """One entry of `questions:`: its id, kind, text, explanation and points, then what its kind needs."""
    if not isinstance(raw, _Mapping):
        raise Invalid(
            N_("Line {line}: question {position} must be a mapping with id, kind and text."),
            code="quiz_question",
            line=list_line,
            position=position,
        )
    _reject_unknown_keys(raw, _QUESTION_KEYS)
    qid = _question_id_of(raw)
    where: dict[str, Any] = {"question": qid, "line": raw.line}
    kind = _question_kind(raw, where)
    if "text" not in raw:
        raise Invalid(N_("Question {question} (line {line}): the question text is missing."), **where)
    text = _text(raw["text"], line=_line(raw, "text"), key="text", block=True)
    explanation = ""
    if raw.get("explanation") is not None:
        explanation = _text(raw["explanation"], line=_line(raw, "explanation"), key="explanation", block=True)
    points = raw.get("points", DEFAULT_POINTS)
    if isinstance(points, bool) or not isinstance(points, int) or not 1 <= points <= MAX_POINTS:
        raise Invalid(
            N_("Question {question} (line {line}): points must be a whole number from 1 to {max}."),
            max=MAX_POINTS,
            **where,
        )
    options, answers = _answers_of_kind(raw, kind, where)
    question = Question(
        id=qid,
        kind=kind,
        text=text,
        options=options,
        answers=answers,
        explanation=explanation,
        points=points,
        format=_text_format(raw),
        line=raw.line,
    )
    check_question(question)
    return question


def _answers_of_kind(
    raw: _Mapping, kind: QuestionKind, where: dict[str, Any]
) -> tuple[tuple[Option, ...], tuple[Answer, ...]]:
    """(options, answers) as the kind writes them: `options:`, `answer:`, `answers:` or `pairs:`."""
    if kind in ("single", "multiple"):
        return _choice_options(raw, kind, where), ()
    if kind == "true_false":
        return _true_false_answer(raw, where), ()
    if kind == "short":
        return (), _short_answers(raw, where)
    if kind == "numerical":
        return (), _numerical_answers(raw, where)
    return _matching_pairs(raw, where)


def _text_format(raw: _Mapping) -> TextFormat:
    value = raw.get("format", "markdown")
    if value not in TEXT_FORMATS:
        raise Invalid(
            N_("Line {line}: format is markdown or html."), code="quiz_format", line=_line(raw, "format")
        )
    return cast(TextFormat, value)


def _weight(mapping: _Mapping, where: dict[str, Any]) -> float | None:
    value = mapping.get("weight")
    if value is None:
        return None
    number = not isinstance(value, bool) and isinstance(value, (int, float))
    if not number or not MIN_WEIGHT <= value <= MAX_WEIGHT:
        raise Invalid(
            N_("Question {question} (line {line}): an answer weight is a percentage from -100 to 100."),
            code="quiz_weight",
            **{**where, "line": _line(mapping, "weight")},
        )
    return float(value)


def _feedback_of(mapping: _Mapping) -> str:
    value = mapping.get("feedback")
    if value is None:
        return ""
    return _text(value, line=_line(mapping, "feedback"), key="feedback", block=True)


def _question_id_of(raw: _Mapping) -> str:
    raw_id = raw.get("id")
    if not isinstance(raw_id, str) or not _QUESTION_ID.match(raw_id.strip()):
        raise Invalid(
            N_(
                "Line {line}: a question id is text of letters, digits, dots, dashes or underscores, such"
                " as q01."
            ),
            code="quiz_question_id",
            line=_line(raw, "id"),
        )
    return raw_id.strip()


def _question_kind(raw: _Mapping, where: dict[str, Any]) -> QuestionKind:
    """A known kind, and no answer key of another kind (`options:` on a true/false question, say)."""
    kind = raw.get("kind")
    if kind not in QUESTION_KINDS:
        raise Invalid(
            N_(
                "Question {question} (line {line}): unknown kind {kind}; use single, multiple, true_false,"
                " short, numerical or matching."
            ),
            code="quiz_kind",
            kind=str(kind),
            **where,
        )
    kind = cast(QuestionKind, kind)
    for key in raw:
        if key in _ANSWER_KEYS and key not in _KEYS_BY_KIND[kind]:
            raise Invalid(
                N_("Question {question} (line {line}): {key} does not belong in a {kind} question."),
                code="quiz_key",
                key=key,
                kind=kind,
                **where,
            )
    return kind


def _choice_options(raw: _Mapping, kind: QuestionKind, where: dict[str, Any]) -> tuple[Option, ...]:
    """`options:` of a single or multiple choice question: 2 to MAX_OPTIONS of `text:` and `correct:` (or a
    `weight:` in percent, for partial credit), each with an optional `feedback:`."""
    raw_options = raw.get("options")
    if not isinstance(raw_options, list) or len(raw_options) < 2:
        raise Invalid(
            N_("Question {question} (line {line}): a question needs at least two options."), **where
        )
    if len(raw_options) > MAX_OPTIONS:
        raise Invalid(
            N_("Question {question} (line {line}): a question has at most {max} options."),
            max=MAX_OPTIONS,
            **where,
        )
    parsed: list[tuple[str, bool, float | None, str]] = []
    for raw_option in raw_options:
        if not isinstance(raw_option, _Mapping):
            raise Invalid(
                N_(
                    "Question {question} (line {line}): each option needs text: and, when right,"
                    " correct: true."
                ),
                **where,
            )
        _reject_unknown_keys(raw_option, _OPTION_KEYS)
        option_text = _text(raw_option.get("text", ""), line=_line(raw_option, "text"), key="text")
        correct = _bool(raw_option.get("correct", False), line=_line(raw_option, "correct"), key="correct")
        weight = _weight(raw_option, where)
        if weight is not None and "correct" in raw_option:
            raise Invalid(
                N_("Line {line}: give an option either correct: or weight:, not both."),
                code="quiz_key",
                line=_line(raw_option, "weight"),
            )
        parsed.append((option_text, correct, weight, _feedback_of(raw_option)))
    weighted = any(w is not None for _, _, w, _ in parsed)
    return weighted_options(
        [(t, c, (w if w is not None else (0.0 if weighted else None)), f) for t, c, w, f in parsed], kind=kind
    )


def weighted_options(
    items: Sequence[tuple[str, bool, float | None, str]],
    *,
    kind: str,
    question: str = "?",
    line: int | str = "?",
) -> tuple[Option, ...]:
    """Options `a`, `b`, `c`… from (text, correct, weight, feedback); a weight decides `correct` — full credit
    for a single choice, any credit for a multiple-answer question."""
    options = letter_options([(text, correct) for text, correct, _, _ in items], question=question, line=line)
    result = []
    for option, (_, correct, weight, feedback) in zip(options, items, strict=True):
        if weight is not None:
            correct = weight >= MAX_WEIGHT if kind == "single" else weight > 0
        result.append(Option(option.id, option.text, correct, weight, feedback))
    return tuple(result)


def _true_false_answer(raw: _Mapping, where: dict[str, Any]) -> tuple[Option, ...]:
    """`answer: true|false`, optional `right_feedback:` / `wrong_feedback:` (GIFT: `{T#wrong#right}`)."""
    answer = raw.get("answer")
    if not isinstance(answer, bool):
        raise Invalid(
            N_(
                "Question {question} (line {line}): a true/false question needs answer: true or"
                " answer: false."
            ),
            **where,
        )
    feedback = {}
    for key in ("right_feedback", "wrong_feedback"):
        value = raw.get(key)
        feedback[key] = "" if value is None else _text(value, line=_line(raw, key), key=key, block=True)
    return true_false_options(
        answer, right_feedback=feedback["right_feedback"], wrong_feedback=feedback["wrong_feedback"]
    )


def _answer_list(raw: _Mapping, key: str, where: dict[str, Any]) -> list[Any]:
    items = raw.get(key)
    if isinstance(items, (str, int, float, _Mapping)) and not isinstance(items, bool):
        items = [items]
    if not isinstance(items, list) or not items:
        raise Invalid(
            N_(
                "Question {question} (line {line}): a short-answer question needs at least one"
                " accepted answer."
            ),
            **where,
        )
    return items


def _short_answers(raw: _Mapping, where: dict[str, Any]) -> tuple[Answer, ...]:
    """`answers:` of a short-answer question: texts (full credit), or `{text:, weight:, feedback:}`; `*` in a
    text stands for any run of characters. Duplicates are dropped."""
    answers: dict[str, Answer] = {}
    line = _line(raw, "answers")
    for item in _answer_list(raw, "answers", where):
        if isinstance(item, _Mapping):
            _reject_unknown_keys(item, _SHORT_ANSWER_KEYS)
            text = _text(item.get("text", ""), line=_line(item, "text"), key="text")
            weight = _weight(item, where)
            answer = Answer(text, MAX_WEIGHT if weight is None else weight, _feedback_of(item))
        else:
            answer = Answer(_text(item, line=line, key="answers"))
        answers.setdefault(answer.text, answer)
    return tuple(answers.values())


def _number(value: Any, *, line: int, key: str) -> float:
    number = None if isinstance(value, bool) else parse_number(str(value)) if value is not None else None
    if number is None:
        raise Invalid(N_("Line {line}: {key} must be a number."), code="quiz_number", line=line, key=key)
    return number


def number_text(value: float) -> str:
    """A number as an answer shows it: `1822`, not `1822.0`."""
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def range_answer(low: float, high: float, *, weight: float = MAX_WEIGHT, feedback: str = "") -> Answer:
    """`min..max` as Moodle stores it: the middle, and a tolerance reaching both ends."""
    middle = _tidy((low + high) / 2)
    return Answer(number_text(middle), weight, feedback, tolerance=_tidy(high - middle))


def _tidy(value: float) -> float:
    """Binary floating point noise off (3.141..3.142 has its middle at 3.1415, not 3.1414999999999997)."""
    return float(f"{value:.12g}")


def _numerical_answers(raw: _Mapping, where: dict[str, Any]) -> tuple[Answer, ...]:
    """`answers:` of a numerical question: numbers, or `{value:, tolerance:}` / `{min:, max:}` with optional
    `weight:` and `feedback:`; `value: "*"` is any other number (for its feedback)."""
    answers = []
    for item in _answer_list(raw, "answers", where):
        if not isinstance(item, _Mapping):
            value = _number(item, line=_line(raw, "answers"), key="answers")
            answers.append(Answer(number_text(value)))
            continue
        _reject_unknown_keys(item, _NUMERICAL_KEYS)
        weight = _weight(item, where)
        weight = MAX_WEIGHT if weight is None else weight
        feedback = _feedback_of(item)
        if "min" in item or "max" in item:
            low = _number(item.get("min"), line=_line(item, "min"), key="min")
            high = _number(item.get("max"), line=_line(item, "max"), key="max")
            answers.append(range_answer(min(low, high), max(low, high), weight=weight, feedback=feedback))
        elif item.get("value") == "*":
            answers.append(Answer("*", weight, feedback))
        else:
            value = _number(item.get("value"), line=_line(item, "value"), key="value")
            tolerance = _number(item.get("tolerance", 0), line=_line(item, "tolerance"), key="tolerance")
            answers.append(Answer(number_text(value), weight, feedback, tolerance=abs(tolerance)))
    return tuple(answers)


def matching_question_parts(
    pairs: Sequence[tuple[str, str]],
) -> tuple[tuple[Option, ...], tuple[Answer, ...]]:
    """(choices, prompts) from (prompt, answer) pairs; a pair without a prompt only adds a choice, and equal
    answers are one choice (as in Moodle)."""
    choices: dict[str, str] = {}
    for _, answer in pairs:
        choices.setdefault(answer, OPTION_IDS[len(choices)] if len(choices) < MAX_OPTIONS else "?")
    options = tuple(Option(option_id, text) for text, option_id in choices.items())
    prompts = tuple(Answer(prompt, option=choices[answer]) for prompt, answer in pairs if prompt)
    return options, prompts


def _matching_pairs(raw: _Mapping, where: dict[str, Any]) -> tuple[tuple[Option, ...], tuple[Answer, ...]]:
    """`pairs:` of a matching question: `{prompt:, answer:}`; `{answer:}` alone adds a wrong choice."""
    raw_pairs = raw.get("pairs")
    if not isinstance(raw_pairs, list) or not raw_pairs:
        raise _too_few_prompts(where)
    pairs = []
    for item in raw_pairs:
        if not isinstance(item, _Mapping):
            raise Invalid(
                N_("Question {question} (line {line}): each pair is a mapping of prompt: and answer:."),
                code="quiz_matching",
                **where,
            )
        _reject_unknown_keys(item, _PAIR_KEYS)
        prompt = _text(item.get("prompt", ""), line=_line(item, "prompt"), key="prompt", block=True)
        answer = _text(item.get("answer", ""), line=_line(item, "answer"), key="answer")
        pairs.append((prompt, answer))
    return matching_question_parts(pairs)


def parse_quiz_yaml(text: str, *, bank: Sequence[Question] | None = None) -> QuizDefinition:
    """Parse a quiz file. `bank` supplies the questions when they live in a GIFT file beside it.

    A quiz must have its questions in exactly one place: the `questions:` key or `bank`.
    """
    data = _parse_yaml(text)
    if data is None:
        raise Invalid(N_("The quiz file is empty."), code="quiz_empty")
    if not isinstance(data, _Mapping):
        raise Invalid(
            N_("Line {line}: a quiz file is a mapping of settings such as title: and questions:."),
            code="quiz_shape",
            line=1,
        )
    _reject_unknown_keys(data, _QUIZ_KEYS)
    title = _text(data.get("title", ""), line=_line(data, "title"), key="title")
    if not title:
        raise Invalid(
            N_("Line {line}: the quiz needs a title."), code="quiz_title", line=_line(data, "title")
        )

    pass_percent = data.get("pass_percent", DEFAULT_PASS_PERCENT)
    if (
        isinstance(pass_percent, bool)
        or not isinstance(pass_percent, (int, float))
        or not 0 <= pass_percent <= 100
    ):
        raise Invalid(
            N_("Line {line}: pass_percent must be a number from 0 to 100."),
            code="quiz_pass_percent",
            line=_line(data, "pass_percent"),
        )
    settings: dict[str, Any] = {}
    for key in ("time_limit_minutes", "max_attempts", "draw"):
        settings[key] = _positive_int_or_none(data.get(key), line=_line(data, key), key=key)
    for key, default in (("shuffle_options", DEFAULT_SHUFFLE_OPTIONS), ("show_review", DEFAULT_SHOW_REVIEW)):
        settings[key] = _bool(data.get(key, default), line=_line(data, key), key=key)

    raw_questions = data.get("questions")
    if raw_questions is not None and bank is not None:
        raise Invalid(
            N_("Line {line}: this quiz has questions: and also a GIFT question bank; keep only one of them."),
            code="quiz_two_banks",
            line=_line(data, "questions"),
        )
    if bank is not None:
        questions = check_bank(bank)
    else:
        if raw_questions is not None and not isinstance(raw_questions, list):
            raise Invalid(
                N_("Line {line}: questions must be a list."),
                code="quiz_questions",
                line=_line(data, "questions"),
            )
        list_line = _line(data, "questions")
        questions = check_bank(_parse_question(q, i, list_line) for i, q in enumerate(raw_questions or [], 1))
    if not questions:
        raise Invalid(N_("The quiz has no questions."), code="quiz_no_questions")
    draw = settings["draw"]
    if draw is not None and draw > len(questions):
        raise Invalid(
            N_("Line {line}: the quiz draws {draw} questions but its bank has only {count}."),
            code="quiz_draw",
            line=_line(data, "draw"),
            draw=draw,
            count=len(questions),
        )
    return QuizDefinition(title=title, questions=questions, pass_percent=float(pass_percent), **settings)


def load_quiz_file(path: Path) -> QuizDefinition:
    """Read `quizzes/<slug>.yaml`, taking the questions from `quizzes/<slug>.gift` when that file exists."""
    from app.quizzes.gift import parse_gift  # gift imports this module

    gift_path = path.with_suffix(".gift")
    bank = parse_gift(_read_text(gift_path)) if gift_path.exists() else None
    return parse_quiz_yaml(_read_text(path), bank=bank)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid(N_("The file {file} is not UTF-8 text."), code="quiz_encoding", file=path.name) from exc
