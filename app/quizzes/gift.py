"""Moodle GIFT question banks → `Question`s, for `quizzes/<slug>.gift` beside a settings-only quiz YAML.

Supported, as Moodle reads them: `//` comment lines, blank lines between questions, `::title::`, format tags
(`[markdown]`, `[html]`, `[plain]`, `[moodle]`: dropped, text kept), single choice `{=right ~wrong}`,
multiple answers `{~%50%a ~%50%b ~%-100%c}` (positive weight = a right answer), true/false `{T}` `{TRUE}`
`{F}` `{FALSE}`, short answer `{=a =b}`, feedback `#…` and general feedback `####…`, escapes
`\\~ \\= \\# \\{ \\} \\: \\\\ \\n`, missing-word questions (text after the answer block: the block becomes
`_____`) and `$CATEGORY:` lines (ignored).

Not supported, with an error naming the line where the question starts: matching (`->`), numerical (`{#…}`),
essay (`{}`), descriptions (no answer block), and partial credit: OneTouch grades a question right or wrong.

Ids: a question's `::title::`, folded to `a-z0-9-` (so "Câu 1" → `cau-1`), else `q01`, `q02`… by position.
Give every question a title when the bank will be edited after learners have attempted it.
Explanations: the general feedback (`####`), else the feedback attached to the right answer(s); feedback on a
wrong option has nowhere to go and is dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.core.errors import N_, Invalid
from app.core.text import fold, nfc
from app.quizzes.bank import Question, block_text, check_bank, letter_options, true_false_options
from app.quizzes.constants import QuestionKind

# Escaped characters become private-use placeholders while parsing, and come back at the end.
_ESCAPES = {
    "\\\\": "\ue000",
    "\\:": "\ue001",
    "\\#": "\ue002",
    "\\=": "\ue003",
    "\\{": "\ue004",
    "\\}": "\ue005",
    "\\~": "\ue006",
    "\\n": "\ue007",
}
_RESTORE = {"\ue000": "\\", "\ue001": ":", "\ue002": "#", "\ue003": "=", "\ue004": "{", "\ue005": "}"}
_RESTORE |= {"\ue006": "~", "\ue007": "\n"}
_FORMAT_TAG = re.compile(r"^\s*\[(moodle|html|plain|markdown)\]", re.IGNORECASE)
_WEIGHT = re.compile(r"^%(-?\d{1,3}(?:\.\d+)?)%")
_TRUE_FALSE = {"T": True, "TRUE": True, "F": False, "FALSE": False}
_ID_JUNK = re.compile(r"[^a-z0-9]+")
_MAX_ID_LENGTH = 64


@dataclass(frozen=True, slots=True)
class _Answer:
    marker: str  # "=" or "~"
    weight: float | None
    text: str
    feedback: str


def _escape(text: str) -> str:
    text = text.replace("\\\\", _ESCAPES["\\\\"])
    for sequence, placeholder in _ESCAPES.items():
        text = text.replace(sequence, placeholder)
    return text


def _unescape(text: str) -> str:
    for placeholder, char in _RESTORE.items():
        text = text.replace(placeholder, char)
    return text


def _clean(text: str, *, block: bool = False) -> str:
    """Drop a leading format tag, restore escapes, normalise to NFC."""
    text = _unescape(_FORMAT_TAG.sub("", text, count=1))
    return block_text(text) if block else nfc(text)


def _blocks(text: str) -> list[tuple[int, list[str]]]:
    """Questions are runs of non-blank lines; comment lines are dropped but do not end a question."""
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 0
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped:
            if current:
                blocks.append((start, current))
                current = []
            continue
        if stripped.startswith("//"):
            continue
        if not current:
            start = number
        current.append(line)
    if current:
        blocks.append((start, current))
    return blocks


def _split_answers(body: str, line: int) -> list[_Answer]:
    """Split `=a#fb ~%50%b` into answers, the way Moodle does: at every unescaped `=` or `~`."""
    parts = re.split(r"([=~])", body)
    if parts[0].strip():
        raise Invalid(
            N_("Line {line}: there is text before the first answer; each answer starts with = or ~."),
            code="gift_answer",
            line=line,
        )
    answers: list[_Answer] = []
    for marker, raw in zip(parts[1::2], parts[2::2], strict=True):
        raw = raw.strip()
        weight: float | None = None
        if raw.startswith("%"):
            match = _WEIGHT.match(raw)
            if not match:
                raise Invalid(
                    N_("Line {line}: an answer weight must look like %50% or %-100%."),
                    code="gift_weight",
                    line=line,
                )
            weight = float(match.group(1))
            raw = raw[match.end() :]
        text, _, feedback = raw.partition("#")
        answer = _Answer(marker, weight, _clean(text), _clean(feedback, block=True))
        if not answer.text:
            raise Invalid(N_("Line {line}: an answer is empty."), code="gift_answer", line=line)
        answers.append(answer)
    return answers


def _no_partial_credit(answers: list[_Answer], line: int) -> None:
    for answer in answers:
        if answer.weight is not None and 0 < answer.weight < 100:
            raise Invalid(
                N_(
                    "Line {line}: partial credit ({weight}%) is not supported; a question is either right"
                    " or wrong."
                ),
                code="gift_partial_credit",
                line=line,
                weight=f"{answer.weight:g}",
            )


def _feedback(answers: list[_Answer]) -> str:
    return "\n\n".join(dict.fromkeys(a.feedback for a in answers if a.feedback))


def _question_id(title: str, position: int) -> str:
    slug = _ID_JUNK.sub("-", fold(title)).strip("-")[:_MAX_ID_LENGTH].strip("-")
    return slug or f"q{position:02d}"


def _parse_block(start: int, lines: list[str], position: int) -> Question | None:
    """One question (None for a `$CATEGORY:` line): title, text with its answer block, then by kind."""
    text = _escape("\n".join(lines).strip())
    if text.startswith("$CATEGORY:"):
        return None
    title, text = _split_title(text, start)
    question_text, body = _split_answer_block(text, start)
    body, general_feedback = _split_general_feedback(body)
    _refuse_unsupported(body, start)
    qid = _question_id(title, position)
    if "~" in body:
        return _choice_question(qid, question_text, body, general_feedback, start)
    head, _, tail = body.partition("#")
    if head.strip().upper() in _TRUE_FALSE:
        return _true_false_question(qid, question_text, head, tail, general_feedback, start)
    return _short_question(qid, question_text, body, general_feedback, start)


def _split_title(text: str, start: int) -> tuple[str, str]:
    """(`::title::`, the rest); no title is ""."""
    if not text.startswith("::"):
        return "", text
    end = text.find("::", 2)
    if end < 0:
        raise Invalid(
            N_("Line {line}: the question title is not closed with ::."), code="gift_title", line=start
        )
    return _unescape(text[2:end]), text[end + 2 :].strip()


def _split_answer_block(text: str, start: int) -> tuple[str, str]:
    """(question text, the answer block's body): exactly one `{…}`; text after it makes a missing word."""
    opening, closing = text.find("{"), text.find("}")
    if opening < 0 and closing < 0:
        raise Invalid(
            N_("Line {line}: the question has no answer block {{…}}; descriptions are not supported."),
            code="gift_no_answers",
            line=start,
        )
    if closing >= 0 and (opening < 0 or closing < opening):
        raise Invalid(
            N_("Line {line}: a }} closes an answer block that was never opened."),
            code="gift_brace",
            line=start,
        )
    if closing < 0 or "{" in text[opening + 1 : closing]:
        raise Invalid(
            N_("Line {line}: unclosed answer block (a {{ without its }})."), code="gift_brace", line=start
        )
    before, body, after = text[:opening], text[opening + 1 : closing].strip(), text[closing + 1 :]
    if "{" in after or "}" in after:
        raise Invalid(
            N_(
                "Line {line}: a question has exactly one answer block {{…}}; escape other braces as \\{{"
                " and \\}}."
            ),
            code="gift_brace",
            line=start,
        )
    question_text = _clean(
        f"{before.rstrip()} _____ {after.lstrip()}" if after.strip() else before, block=True
    )
    return question_text, body


def _split_general_feedback(body: str) -> tuple[str, str]:
    """(answers, general feedback): what follows the last `####`."""
    if "####" not in body:
        return body, ""
    body, _, general_feedback = body.rpartition("####")
    return body.strip(), _clean(general_feedback, block=True)


def _refuse_unsupported(body: str, start: int) -> None:
    if not body:
        raise Invalid(
            N_("Line {line}: essay questions ({{}}) are not supported."), code="gift_unsupported", line=start
        )
    if body.startswith("#"):
        raise Invalid(
            N_("Line {line}: numerical questions ({{#…}}) are not supported."),
            code="gift_unsupported",
            line=start,
        )
    if "->" in body:
        raise Invalid(
            N_("Line {line}: matching questions (->) are not supported."), code="gift_unsupported", line=start
        )


def _true_false_question(
    qid: str, question_text: str, head: str, tail: str, general_feedback: str, start: int
) -> Question:
    """`{T#feedback if wrong#feedback if right}`: the explanation prefers the general, then the right one."""
    answer = _TRUE_FALSE[head.strip().upper()]
    wrong_feedback, _, right_feedback = tail.partition("#")
    explanation = general_feedback or _clean(right_feedback, block=True) or _clean(wrong_feedback, block=True)
    return Question(
        id=qid,
        kind="true_false",
        text=question_text,
        options=true_false_options(answer),
        explanation=explanation,
        line=start,
    )


def _short_question(qid: str, question_text: str, body: str, general_feedback: str, start: int) -> Question:
    """`{=a =b}`: every full-weight answer is accepted."""
    answers = _split_answers(body, start)  # only `=` answers here: there is no `~`
    _no_partial_credit(answers, start)
    accepted = tuple(dict.fromkeys(a.text for a in answers if a.weight is None or a.weight >= 100))
    return Question(
        id=qid,
        kind="short",
        text=question_text,
        answers=accepted,
        explanation=general_feedback or _feedback(answers),
        line=start,
    )


def _choice_question(qid: str, question_text: str, body: str, general_feedback: str, start: int) -> Question:
    """Single choice when an answer is marked `=`, else multiple choice by positive weights."""
    answers = _split_answers(body, start)
    if len(answers) < 2:
        raise Invalid(
            N_("Line {line}: a multiple-choice question needs at least two answers."),
            code="gift_answer",
            line=start,
        )
    kind: QuestionKind
    if any(a.marker == "=" for a in answers):
        kind, right = "single", _single_right_answer(answers, start)
    else:
        kind, right = "multiple", _weighted_right_answers(answers, start)
    right_ids = {id(a) for a in right}
    return Question(
        id=qid,
        kind=kind,
        text=question_text,
        options=letter_options([(a.text, id(a) in right_ids) for a in answers], question=qid, line=start),
        explanation=general_feedback or _feedback(right),
        line=start,
    )


def _single_right_answer(answers: list[_Answer], start: int) -> list[_Answer]:
    # Moodle: an `=` answer makes it single choice; the others are wrong unless weighted (partial credit).
    _no_partial_credit(answers, start)
    right = [a for a in answers if a.marker == "="]
    if len(right) > 1:
        raise Invalid(
            N_(
                "Line {line}: a single-choice question has more than one right answer (=);"
                " for several right answers write ~%50% before each of them."
            ),
            code="gift_answer",
            line=start,
        )
    return right


def _weighted_right_answers(answers: list[_Answer], start: int) -> list[_Answer]:
    right = [a for a in answers if a.weight is not None and a.weight > 0]
    if not right:
        raise Invalid(
            N_("Line {line}: no right answer: give the right answers a positive weight such as ~%50%."),
            code="gift_answer",
            line=start,
        )
    return right


def parse_gift(text: str) -> tuple[Question, ...]:
    """Parse a GIFT file's text into a checked question bank (unique ids, one right answer where needed…)."""
    text = text.lstrip("\ufeff")
    questions: list[Question] = []
    for start, lines in _blocks(text):
        question = _parse_block(start, lines, len(questions) + 1)
        if question is not None:
            questions.append(question)
    if not questions:
        raise Invalid(N_("The GIFT file has no questions."), code="gift_empty")
    return check_bank(questions)
