"""Quiz definitions: typed question banks, and the parser for `quizzes/<slug>.yaml` (see courses/README.md).

Everything here is pure: no database, no I/O except `load_quiz_file`. Parsers raise `Invalid` with a message
id that names the line and the question, so an author can fix a file from the error alone.
"""

from __future__ import annotations

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
    OPTION_IDS,
    QUESTION_ID_PATTERN,
    QUESTION_KINDS,
    SETTING_MAXIMUM,
    TRUE_OPTION_ID,
    TRUE_TEXT,
    QuestionKind,
)

_QUESTION_ID = re.compile(QUESTION_ID_PATTERN)


@dataclass(frozen=True, slots=True)
class Option:
    id: str
    text: str
    correct: bool = False


@dataclass(frozen=True, slots=True)
class Question:
    """One question of a bank. `options` for single/multiple/true_false, `answers` for short."""

    id: str
    kind: QuestionKind
    text: str
    options: tuple[Option, ...] = ()
    answers: tuple[str, ...] = ()
    explanation: str = ""
    points: int = DEFAULT_POINTS
    # Where the question starts in its source file; for messages only, so not part of equality.
    line: int | None = field(default=None, compare=False)

    @property
    def correct_option_ids(self) -> frozenset[str]:
        return frozenset(o.id for o in self.options if o.correct)

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


def true_false_options(answer: bool) -> tuple[Option, ...]:
    return (
        Option(TRUE_OPTION_ID, TRUE_TEXT, correct=answer),
        Option(FALSE_OPTION_ID, FALSE_TEXT, correct=not answer),
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
                "Question {question} (line {line}): unknown kind {kind}; use single, multiple, true_false"
                " or short."
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
    if q.kind == "short":
        if not q.answers or not all(q.answers):
            raise Invalid(
                N_(
                    "Question {question} (line {line}): a short-answer question needs at least one"
                    " accepted answer."
                ),
                **where,
            )
        return
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
    count = len(q.correct_option_ids)
    if q.kind in ("single", "true_false") and count != 1:
        raise Invalid(
            N_(
                "Question {question} (line {line}): a single-choice question needs exactly one correct"
                " option, found {count}."
            ),
            count=count,
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
_QUESTION_KEYS = {"id", "kind", "text", "options", "answer", "answers", "explanation", "points"}
_KEYS_BY_KIND = {
    "single": {"options"},
    "multiple": {"options"},
    "true_false": {"answer"},
    "short": {"answers"},
}
_OPTION_KEYS = {"text", "correct"}


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
    options: tuple[Option, ...] = ()
    answers: tuple[str, ...] = ()
    if kind in ("single", "multiple"):
        options = _choice_options(raw, where)
    elif kind == "true_false":
        options = _true_false_answer(raw, where)
    else:
        answers = _short_answers(raw, where)
    question = Question(
        id=qid,
        kind=kind,
        text=text,
        options=options,
        answers=answers,
        explanation=explanation,
        points=points,
        line=raw.line,
    )
    check_question(question)
    return question


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
                "Question {question} (line {line}): unknown kind {kind}; use single, multiple, true_false"
                " or short."
            ),
            code="quiz_kind",
            kind=str(kind),
            **where,
        )
    kind = cast(QuestionKind, kind)
    for key in raw:
        if key in {"options", "answer", "answers"} and key not in _KEYS_BY_KIND[kind]:
            raise Invalid(
                N_("Question {question} (line {line}): {key} does not belong in a {kind} question."),
                code="quiz_key",
                key=key,
                kind=kind,
                **where,
            )
    return kind


def _choice_options(raw: _Mapping, where: dict[str, Any]) -> tuple[Option, ...]:
    """`options:` of a single or multiple choice question: 2 to MAX_OPTIONS of `text:` and `correct:`."""
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
    items: list[tuple[str, bool]] = []
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
        items.append((option_text, correct))
    return letter_options(items)


def _true_false_answer(raw: _Mapping, where: dict[str, Any]) -> tuple[Option, ...]:
    answer = raw.get("answer")
    if not isinstance(answer, bool):
        raise Invalid(
            N_(
                "Question {question} (line {line}): a true/false question needs answer: true or"
                " answer: false."
            ),
            **where,
        )
    return true_false_options(answer)


def _short_answers(raw: _Mapping, where: dict[str, Any]) -> tuple[str, ...]:
    """`answers:` of a short-answer question: one text or a list, each accepted, duplicates dropped."""
    raw_answers = raw.get("answers")
    if isinstance(raw_answers, (str, int, float)) and not isinstance(raw_answers, bool):
        raw_answers = [raw_answers]
    if not isinstance(raw_answers, list) or not raw_answers:
        raise Invalid(
            N_(
                "Question {question} (line {line}): a short-answer question needs at least one"
                " accepted answer."
            ),
            **where,
        )
    return tuple(dict.fromkeys(_text(a, line=_line(raw, "answers"), key="answers") for a in raw_answers))


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
