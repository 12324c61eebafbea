"""Moodle GIFT question banks → `Question`s (a quiz editor's upload, or `quizzes/<slug>.gift` beside a
settings-only quiz YAML), and the bank back to GIFT for trainers who move it to Moodle.

Read as Moodle's own importer reads it (question/format/gift/format.php), so a file means the same in both:
- questions are runs of non-blank lines; `//` comment lines and `$CATEGORY:` lines are ignored;
- `::title::`, then the text with one answer block `{…}`; text after the block makes a missing-word
  question (the block becomes `_____` where it stood, punctuation kept);
- the kind, in Moodle's order: `{}` essay, `{#…}` numerical, any `~` multiple choice (so `~a->b` is an
  option, not a match), `=a -> b` matching, `T`/`TRUE`/`F`/`FALSE` true/false (upper case, as Moodle),
  else short answer;
- multiple choice: with an `=` answer it is single choice (every `=` earns full credit), else multiple
  answers; `%50%`-style weights give partial credit and penalties (`~%-100%`); `#feedback` after each
  answer; `####` general feedback; numerical answers `1822`, `1822:2`, `1..5`, several with weights,
  `~#feedback` for any other number; short answers with weights and `*` as "any characters";
- format tags `[html]`, `[markdown]`, `[plain]`, `[moodle]`: a question written in HTML (Moodle's exports)
  is kept as HTML and shown through the lessons' sanitiser; the others are Markdown;
- escapes `\\~ \\= \\# \\{ \\} \\: \\\\ \\n`.

Refused, each with a reason naming its line, and all of a file's problems reported at once: essays (`{}`:
no server can grade them), descriptions (no answer block: nothing to ask), and files embedded by Moodle
(`@@PLUGINFILE@@`: a GIFT file does not carry them).

Ids: a question's `::title::` (kept as it is when it is already an id such as `q01`, else folded to
`a-z0-9-`: "Câu 1" → `cau-1`; a repeated title gets `-2`, `-3`…); untitled questions get the first free
`q01`, `q02`…, never an id in `taken` (the quiz's existing questions), so importing a second file adds its
untitled questions instead of replacing the first file's.
"""

from __future__ import annotations

import html
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace

from app.catalog.rendering import markdown_to_html
from app.core.errors import N_, DomainError, Invalid
from app.core.text import fold, nfc
from app.quizzes.bank import (
    Answer,
    Option,
    Question,
    block_text,
    check_question,
    matching_question_parts,
    number_text,
    parse_number,
    range_answer,
    true_false_options,
    weighted_options,
)
from app.quizzes.constants import MAX_WEIGHT, QUESTION_ID_PATTERN, QuestionKind, TextFormat

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
_QUESTION_ID = re.compile(QUESTION_ID_PATTERN)
_PLUGINFILE = re.compile(r"@@PLUGINFILE@@/?([^\s\"'<>)]*)")
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_\[\]<>#|~])")
_MAX_ID_LENGTH = 64
_BLANK = "_____"


@dataclass(frozen=True, slots=True)
class _Piece:
    """A piece of text with the format its tag (or the question) gives it."""

    text: str
    format: str  # html, markdown, plain, moodle


@dataclass(frozen=True, slots=True)
class _Parsed:
    title: str
    question: Question  # with a placeholder id until ids are given


def _escape(text: str) -> str:
    text = text.replace("\\\\", _ESCAPES["\\\\"])
    for sequence, placeholder in _ESCAPES.items():
        text = text.replace(sequence, placeholder)
    return text


def _unescape(text: str) -> str:
    for placeholder, char in _RESTORE.items():
        text = text.replace(placeholder, char)
    return text


def _piece(text: str, default: str) -> _Piece:
    """Moodle's parse_text_with_format: a leading `[format]` tag, escapes restored, trimmed."""
    match = _FORMAT_TAG.match(text)
    fmt = match.group(1).lower() if match else default
    if match:
        text = text[match.end() :]
    return _Piece(_unescape(text).strip(), fmt)


def _question_format(piece: _Piece) -> TextFormat:
    return "html" if piece.format == "html" else "markdown"


def _as(piece: _Piece, target: TextFormat, *, block: bool = True) -> str:
    """A piece written in its own format, converted to the question's: plain text escaped, Markdown turned
    into HTML in an HTML question, Moodle's auto-format (HTML allowed, line breaks kept) given its breaks;
    HTML stays HTML (Markdown allows it inline)."""
    text = piece.text
    if piece.format == "plain" and target == "html":
        text = html.escape(text, quote=False)
    elif piece.format == "plain":
        text = _MARKDOWN_PUNCTUATION.sub(r"\\\1", text)
    elif target == "html" and piece.format == "markdown":
        text = markdown_to_html(text, inline=not block).strip()
    elif target == "html" and piece.format == "moodle":
        text = text.replace("\n", "<br>\n")
    return block_text(text) if block else nfc(text)


def _plain(text: str) -> str:
    """Text compared with what a learner types (short and numerical answers, matching choices): no tag."""
    return nfc(_piece(text, "plain").text)


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


def _weight_of(raw: str, line: int) -> tuple[float | None, str]:
    """(weight in percent or None, the rest) of an answer that may start with `%50%`."""
    raw = raw.strip()
    if not raw.startswith("%"):
        return None, raw
    match = _WEIGHT.match(raw)
    if not match:
        raise Invalid(
            N_("Line {line}: an answer weight must look like %50% or %-100%."), code="gift_weight", line=line
        )
    return float(match.group(1)), raw[match.end() :]


def _split(body: str, separators: str) -> list[str]:
    """Moodle's explode: every part between separators; the text before the first one is an answer too when
    it is not blank (`{Hà Nội}` is a short answer)."""
    parts = re.split(f"(?=[{re.escape(separators)}])", body)
    if not parts[0].strip():
        parts = parts[1:]
    return parts


def _feedback_split(raw: str) -> tuple[str, str]:
    text, _, feedback = raw.partition("#")
    return text, feedback


def _parse_block(start: int, lines: list[str]) -> _Parsed | None:
    """One question (None for a `$CATEGORY:` line): title, text and answer block, then by kind."""
    text = _escape("\n".join(lines).strip())
    if text.startswith("$CATEGORY:"):
        return None
    title, text = _split_title(text, start)
    question_text, body = _split_answer_block(text, start)
    body, general = _split_general_feedback(body)
    stem = _piece(question_text, "moodle")
    fmt = _question_format(stem)
    kind, options, answers = _parse_answers(body, fmt, start)
    question = Question(
        id="?",
        kind=kind,
        text=_as(stem, fmt),
        options=options,
        answers=answers,
        explanation=_as(_piece(general, stem.format), fmt) if general.strip() else "",
        format=fmt,
        line=start,
    )
    _refuse_embedded_files(question, start)
    return _Parsed(nfc(title), question)


_Parts = tuple[QuestionKind, tuple[Option, ...], tuple[Answer, ...]]


def _parse_answers(body: str, fmt: TextFormat, start: int) -> _Parts:
    """(kind, options, answers) in Moodle's order of kinds."""
    if not body:
        raise Invalid(
            N_(
                "Line {line}: essay questions ({{}}) are not imported: OneTouch grades every answer"
                " automatically, and an essay needs a person to grade it."
            ),
            code="gift_unsupported",
            line=start,
        )
    if body.startswith("#"):
        return "numerical", (), _numerical_answers(body[1:], fmt, start)
    if "~" in body:
        return _choice_answers(body, fmt, start)
    if "=" in body and "->" in body:
        options, prompts = _matching_answers(body, fmt, start)
        return "matching", options, prompts
    head, _, tail = body.partition("#")
    if head.strip() in _TRUE_FALSE:
        return "true_false", _true_false_answers(head, tail, fmt), ()
    return "short", (), _short_answers(body, fmt, start)


def _split_title(text: str, start: int) -> tuple[str, str]:
    """(`::title::`, the rest); no title is ""."""
    if not text.startswith("::"):
        return "", text
    end = text.find("::", 2)
    if end < 0:
        raise Invalid(
            N_("Line {line}: the question title is not closed with ::."), code="gift_title", line=start
        )
    return _unescape(text[2:end]).strip(), text[end + 2 :].strip()


def _split_answer_block(text: str, start: int) -> tuple[str, str]:
    """(question text, the answer block's body): exactly one `{…}`; text after it makes a missing word, with
    the blank where the block stood (`… from {…}.` → `… from _____.`)."""
    opening, closing = text.find("{"), text.find("}")
    if opening < 0 and closing < 0:
        raise Invalid(
            N_(
                "Line {line}: the question has no answer block {{…}}: descriptions are not imported (there"
                " is nothing to answer); put such text in a lesson."
            ),
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
    return (before + _BLANK + after if after.strip() else before), body


def _split_general_feedback(body: str) -> tuple[str, str]:
    """(answers, general feedback): what follows the last `####`."""
    if "####" not in body:
        return body, ""
    body, _, general_feedback = body.rpartition("####")
    return body.strip(), general_feedback


def _choice_answers(body: str, fmt: TextFormat, start: int) -> _Parts:
    """`{=right ~wrong ~%50%half#feedback}`: single choice when an answer is `=`, else multiple answers."""
    kind: QuestionKind = "single" if "=" in body else "multiple"
    items: list[tuple[str, bool, float | None, str]] = []
    for part in _split(body, "~="):
        marker = part[0] if part[:1] in ("~", "=") else "~"
        weight, rest = _weight_of(part[1:] if part[:1] in ("~", "=") else part, start)
        if weight is None:
            weight = MAX_WEIGHT if marker == "=" else 0.0
        text, feedback = _feedback_split(rest)
        option_text = _as(_piece(text, fmt), fmt, block=False)
        if not option_text:
            raise Invalid(N_("Line {line}: an answer is empty."), code="gift_answer", line=start)
        items.append((option_text, weight >= MAX_WEIGHT, weight, _as(_piece(feedback, fmt), fmt)))
    if len(items) < 2:
        raise Invalid(
            N_("Line {line}: a multiple-choice question needs at least two answers."),
            code="gift_answer",
            line=start,
        )
    unweighted = kind == "single" and all(w in (0.0, MAX_WEIGHT) for _, _, w, _ in items)
    if unweighted:  # plain `=right ~wrong`: right or wrong, as a single-choice question written by hand
        items = [(t, c, None, f) for t, c, _, f in items]
    return kind, weighted_options(items, kind=kind, line=start), ()


def _true_false_answers(head: str, tail: str, fmt: TextFormat) -> tuple[Option, ...]:
    """`{T#feedback if wrong#feedback if right}`: each feedback goes with the option that earns it."""
    wrong, _, right = tail.partition("#")
    return true_false_options(
        _TRUE_FALSE[head.strip()],
        right_feedback=_as(_piece(right, fmt), fmt),
        wrong_feedback=_as(_piece(wrong, fmt), fmt),
    )


def _short_answers(body: str, fmt: TextFormat, start: int) -> tuple[Answer, ...]:
    """`{=a =%50%b#feedback}`: every answer with its weight (full credit when none is written)."""
    answers: dict[str, Answer] = {}
    for part in _split(body, "="):
        weight, rest = _weight_of(part[1:] if part.startswith("=") else part, start)
        text, feedback = _feedback_split(rest)
        answer = Answer(
            _plain(text), MAX_WEIGHT if weight is None else weight, _as(_piece(feedback, fmt), fmt)
        )
        if not answer.text:
            raise Invalid(N_("Line {line}: an answer is empty."), code="gift_answer", line=start)
        answers.setdefault(answer.text, answer)
    return tuple(answers.values())


def _numerical_answers(body: str, fmt: TextFormat, start: int) -> tuple[Answer, ...]:
    """`{#1822:2}`, `{#1..5}`, `{#=1822:0 =%50%1822:2 ~#feedback for any other number}`."""
    body, tilde, wrong = body.partition("~")
    answers: list[Answer] = []
    for part in _split(body, "="):
        weight, rest = _weight_of(part[1:] if part.startswith("=") else part, start)
        text, feedback = _feedback_split(rest)
        answers.append(_number_answer(_plain(text), weight, _as(_piece(feedback, fmt), fmt), start))
    if not answers:
        raise Invalid(
            N_("Line {line}: a numerical question needs at least one answer."), code="gift_answer", line=start
        )
    if tilde:
        answers.append(Answer("*", 0.0, _as(_piece(_feedback_split(wrong)[1], fmt), fmt)))
    return tuple(answers)


def _number_answer(text: str, weight: float | None, feedback: str, start: int) -> Answer:
    """`value`, `value:tolerance` or `min..max` (stored as Moodle stores it: the middle ± half the range)."""
    weight = MAX_WEIGHT if weight is None else weight
    low_text, dots, high_text = text.partition("..")
    if dots and low_text:
        low, high = parse_number(low_text), parse_number(high_text)
        if low is None or high is None:
            raise _not_a_number(text, start)
        return range_answer(min(low, high), max(low, high), weight=weight, feedback=feedback)
    value_text, colon, tolerance_text = text.partition(":")
    if value_text.strip() == "*":
        return Answer("*", weight, feedback)
    value = parse_number(value_text)
    tolerance = parse_number(tolerance_text) if colon else 0.0
    if value is None or tolerance is None:
        raise _not_a_number(text, start)
    return Answer(number_text(value), weight, feedback, tolerance=abs(tolerance))


def _not_a_number(text: str, start: int) -> Invalid:
    return Invalid(
        N_(
            "Line {line}: “{answer}” is not a number: write 1822, 1822:2 (with a tolerance) or 1..5"
            " (a range)."
        ),
        code="gift_number",
        line=start,
        answer=text,
    )


def _matching_answers(
    body: str, fmt: TextFormat, start: int
) -> tuple[tuple[Option, ...], tuple[Answer, ...]]:
    """`{=prompt -> answer =prompt -> answer = -> extra answer}`."""
    pairs = []
    for part in _split(body, "="):
        prompt, arrow, answer = (part[1:] if part.startswith("=") else part).partition("->")
        if not arrow:
            raise Invalid(
                N_("Line {line}: each answer of a matching question is written =prompt -> answer."),
                code="gift_matching",
                line=start,
            )
        pairs.append((_as(_piece(prompt, fmt), fmt, block=False), _plain(answer)))
    if len(pairs) < 2:
        raise Invalid(
            N_("Line {line}: a matching question needs at least two answers."), code="gift_answer", line=start
        )
    return matching_question_parts(pairs)


def _refuse_embedded_files(question: Question, start: int) -> None:
    texts = [question.text, question.explanation]
    texts += [t for o in question.options for t in (o.text, o.feedback)]
    texts += [t for a in question.answers for t in (a.text, a.feedback)]
    for text in texts:
        match = _PLUGINFILE.search(text)
        if match:
            raise Invalid(
                N_(
                    "Line {line}: the question shows a file from the Moodle course ({file}), and a GIFT"
                    " file does not carry files: put the picture in a lesson, or remove it from the"
                    " question."
                ),
                code="gift_file",
                line=start,
                file=match.group(1) or "@@PLUGINFILE@@",
            )


# --- ids ----------------------------------------------------------------------------------------------------


def _title_id(title: str) -> str:
    if _QUESTION_ID.match(title):
        return title
    return _ID_JUNK.sub("-", fold(title)).strip("-")[:_MAX_ID_LENGTH].strip("-")


def _numbered(base: str, used: set[str]) -> str:
    """`base`, else `base-2`, `base-3`… (cut so the id stays within its length)."""
    if base not in used:
        return base
    n = 2
    while True:
        suffix = f"-{n}"
        candidate = base[: _MAX_ID_LENGTH - len(suffix)] + suffix
        if candidate not in used:
            return candidate
        n += 1


def _give_ids(parsed: Sequence[_Parsed], taken: Collection[str]) -> list[Question]:
    """Titled questions first (by title, repeats numbered), then untitled ones on the first free `qNN`."""
    used: set[str] = set()
    ids: list[str | None] = []
    for item in parsed:
        base = _title_id(item.title) if item.title else ""
        ids.append(_numbered(base, used) if base else None)
        if base:
            used.add(ids[-1] or "")
    used |= set(taken)
    n = 0
    questions = []
    for item, qid in zip(parsed, ids, strict=True):
        if qid is None:
            n += 1
            while f"q{n:02d}" in used:
                n += 1
            qid = f"q{n:02d}"
            used.add(qid)
        questions.append(replace(item.question, id=qid))
    return questions


# --- the file -----------------------------------------------------------------------------------------------


def gift_problems(problems: Sequence[DomainError]) -> Invalid:
    """One error for the whole file: the only problem, or all of them in file order."""
    if len(problems) == 1 and isinstance(problems[0], Invalid):
        return problems[0]
    return Invalid(
        N_("The GIFT file has {count} problems; nothing was imported:\n{problems}"),
        code="gift_problems",
        count=len(problems),
        problems=tuple(problems),
    )


def _line_of(problem: DomainError) -> int:
    line = problem.params.get("line")
    return line if isinstance(line, int) else 0


def parse_gift(text: str, *, taken: Collection[str] = ()) -> tuple[Question, ...]:
    """Parse a GIFT file's text into a checked question bank; every problem of the file is reported at once.

    `taken`: ids untitled questions must not get (the existing questions of the quiz they are added to).
    """
    text = text.lstrip("\ufeff")
    parsed: list[_Parsed] = []
    problems: list[DomainError] = []
    for start, lines in _blocks(text):
        try:
            item = _parse_block(start, lines)
        except Invalid as exc:
            problems.append(exc)
            continue
        if item is not None:
            parsed.append(item)
    questions = _give_ids(parsed, taken)
    for question in questions:
        try:
            check_question(question)
        except Invalid as exc:
            problems.append(exc)
    if problems:
        problems.sort(key=_line_of)
        raise gift_problems(problems)
    if not questions:
        raise Invalid(N_("The GIFT file has no questions."), code="gift_empty")
    return tuple(questions)


# --- export -------------------------------------------------------------------------------------------------

_EXPORT_ESCAPES = str.maketrans(
    {
        "\\": "\\\\",
        "~": "\\~",
        "=": "\\=",
        "#": "\\#",
        "{": "\\{",
        "}": "\\}",
        ":": "\\:",
        "\n": "\\n",
        "\r": "",
    }
)


def _gift_text(text: str) -> str:
    """Text with GIFT's control characters escaped and line breaks as `\\n` (Moodle's repchar)."""
    return text.translate(_EXPORT_ESCAPES)


def _weight_text(weight: float) -> str:
    return f"%{number_text(weight)}%"


def _feedback_text(feedback: str) -> str:
    return f"#{_gift_text(feedback)}" if feedback else ""


def _choice_lines(q: Question) -> Iterable[str]:
    for o in q.options:
        if q.kind == "single" and o.weight is None:
            marker = "=" if o.correct else "~"
        elif q.kind == "single" and o.weight == MAX_WEIGHT:
            marker = "="
        else:
            weight = o.weight if o.weight is not None else (MAX_WEIGHT if o.correct else 0.0)
            marker = "~" if weight == 0 and q.kind == "single" else f"~{_weight_text(weight)}"
            if q.kind == "multiple" and o.weight is None:
                marker = f"~{_weight_text(MAX_WEIGHT / len(q.correct_option_ids))}" if o.correct else "~"
        yield f"\t{marker}{_gift_text(o.text)}{_feedback_text(o.feedback)}"


def _answer_lines(q: Question) -> Iterable[str]:
    if q.kind == "true_false":
        right = "true" in q.correct_option_ids
        right_option = q.option("true" if right else "false")
        wrong_option = q.option("false" if right else "true")
        wrong_fb = wrong_option.feedback if wrong_option else ""
        right_fb = right_option.feedback if right_option else ""
        feedback = f"#{_gift_text(wrong_fb)}#{_gift_text(right_fb)}" if (wrong_fb or right_fb) else ""
        yield f"\t{'TRUE' if right else 'FALSE'}{feedback}"
    elif q.kind in ("single", "multiple"):
        yield from _choice_lines(q)
    elif q.kind == "matching":
        choices = {o.id: o.text for o in q.options}
        answered = {a.option for a in q.answers}
        for a in q.answers:
            yield f"\t={_gift_text(a.text)} -> {_gift_text(choices[a.option])}"
        for o in q.options:
            if o.id not in answered:
                yield f"\t= -> {_gift_text(o.text)}"
    else:
        for a in q.answers:
            value = a.text
            if q.kind == "numerical" and a.text == "*":
                yield f"\t~{_feedback_text(a.feedback) or '#'}"
                continue
            if q.kind == "numerical":
                value = f"{a.text}:{number_text(a.tolerance)}"
            weight = "" if a.weight == MAX_WEIGHT else _weight_text(a.weight)
            value = value if q.kind == "numerical" else _gift_text(value)
            yield f"\t={weight}{value}{_feedback_text(a.feedback)}"


def export_gift(questions: Iterable[Question]) -> str:
    """A bank as a GIFT file Moodle imports (and `parse_gift` reads back to the same questions)."""
    out = ["// OneTouch question bank (GIFT, Moodle's format)", ""]
    for q in questions:
        tag = "[html]" if q.format == "html" else "[markdown]"
        opening = "{#" if q.kind == "numerical" else "{"
        out.append(f"::{_gift_text(q.id)}::{tag}{_gift_text(q.text)}{opening}")
        out.extend(_answer_lines(q))
        if q.explanation:
            out.append(f"\t####{_gift_text(q.explanation)}")
        out.extend(["}", ""])
    return "\n".join(out)
