"""Quizzes in the database: banks from files, GIFT and the browser; attempts, server-side grading, results.

Rules (SPEC §6): grading happens here only, from the questions an attempt drew (stored with the attempt);
right answers never leave the server before submission; one active attempt per learner and quiz (a partial
unique index); attempt numbers are unique, so racing starts cannot exceed the limit; submitting twice grades
once (a conditional UPDATE claims the attempt).

Time limit: answers submitted up to `grace` after the deadline count. Later, the submitted answers are ignored
and the attempt is graded with the answers saved (autosaved) before the deadline, as of the deadline; an
expired attempt nobody submitted is graded the same way the next time its learner opens the quiz.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from app.accounts.models import User
from app.catalog import service as catalog_service
from app.catalog.models import QUIZ, Course, Lesson
from app.catalog.service import LessonSnapshot
from app.certificates.models import Certificate
from app.core import db as core_db
from app.core.errors import N_, Conflict, Forbidden, Invalid, NotFound
from app.core.text import nfc
from app.progress import service as progress_service
from app.progress.models import Enrolment
from app.quizzes import submission
from app.quizzes.bank import Answer, Option, Question, QuizDefinition, check_bank
from app.quizzes.constants import EDITOR_KINDS, MAX_WEIGHT, SETTING_MAXIMUM, QuestionKind
from app.quizzes.gift import export_gift, parse_gift
from app.quizzes.grading import (
    answer_feedback,
    clean_answers,
    draw_questions,
    grade,
    question_from_json,
    question_to_json,
    shuffle_options,
)
from app.quizzes.models import IN_PROGRESS, Quiz, QuizAttempt, QuizQuestion
from app.quizzes.submission import AttemptResult
from app.tenancy.scoping import bound_tenant_id

DEFAULT_GRACE = dt.timedelta(seconds=30)
SETTING_MESSAGES = {
    "time_limit_minutes": N_("The time limit is at most {max} minutes."),
    "max_attempts": N_("A quiz allows at most {max} attempts."),
    "draw": N_("A quiz draws at most {max} questions per attempt."),
}


def now_utc() -> dt.datetime:
    """The clock every quiz rule reads (tests move it by patching `app.core.db.utcnow`)."""
    return core_db.utcnow()


# --- questions: bank dataclasses <-> rows <-> JSON ----------------------------------------------------------


def question_from_row(row: QuizQuestion) -> Question:
    return question_from_json({**_row_json(row), "id": row.key})


def _row_json(row: QuizQuestion) -> dict[str, Any]:
    return {
        "id": row.key,
        "kind": row.kind,
        "format": row.format,
        "text": row.text,
        "options": row.options or [],
        "answers": row.answers or [],
        "explanation": row.explanation,
        "points": row.points,
    }


def _apply_question(row: QuizQuestion, q: Question) -> bool:
    data = question_to_json(q)
    values = {
        "kind": data["kind"],
        "format": q.format,
        "text": data["text"],
        "options": data["options"],
        "answers": data["answers"],
        "explanation": data["explanation"],
        "points": data["points"],
    }
    changed = False
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed = True
    return changed


def bank_of(quiz: Quiz) -> tuple[Question, ...]:
    """The quiz's questions as bank dataclasses (the quiz must be loaded with its questions)."""
    return tuple(question_from_row(r) for r in quiz.questions)


def definition_of(quiz: Quiz) -> QuizDefinition:
    return QuizDefinition(
        title=quiz.title,
        questions=bank_of(quiz),
        pass_percent=quiz.pass_percent,
        time_limit_minutes=quiz.time_limit_minutes,
        max_attempts=quiz.max_attempts,
        draw=quiz.draw,
        shuffle_options=quiz.shuffle_options,
        show_review=quiz.show_review,
    )


def definition_hash(defn: QuizDefinition) -> str:
    """A quiz's identity in file form, independent of YAML or GIFT and of formatting."""
    data = {
        "title": defn.title,
        "pass_percent": float(defn.pass_percent),
        "time_limit_minutes": defn.time_limit_minutes,
        "max_attempts": defn.max_attempts,
        "draw": defn.draw,
        "shuffle_options": defn.shuffle_options,
        "show_review": defn.show_review,
        "questions": [question_to_json(q) for q in defn.questions],
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def definition_to_yaml_data(defn: QuizDefinition) -> dict[str, Any]:
    """The `quizzes/<slug>.yaml` form of a quiz (courses/README.md); parses back to the same definition."""
    data: dict[str, Any] = {"title": defn.title}
    percent = defn.pass_percent
    data["pass_percent"] = int(percent) if float(percent).is_integer() else percent
    for key in ("time_limit_minutes", "max_attempts", "draw"):
        value = getattr(defn, key)
        if value is not None:
            data[key] = value
    data["shuffle_options"] = defn.shuffle_options
    data["show_review"] = defn.show_review
    data["questions"] = [_question_yaml_data(q) for q in defn.questions]
    return data


def _question_yaml_data(q: Question) -> dict[str, Any]:
    """One question in the quiz file form (docs/courses.md); parses back to the same question."""
    item: dict[str, Any] = {"id": q.id, "kind": q.kind, "text": q.text}
    if q.format != "markdown":
        item["format"] = q.format
    if q.kind in ("single", "multiple"):
        item["options"] = [_option_yaml_data(o) for o in q.options]
    elif q.kind == "true_false":
        right = "true" in q.correct_option_ids
        item["answer"] = right
        for option in q.options:
            if option.feedback:
                item["right_feedback" if option.correct else "wrong_feedback"] = option.feedback
    elif q.kind == "short":
        item["answers"] = [
            a.text
            if a == Answer(a.text)
            else _with_feedback({"text": a.text, "weight": a.weight}, a.feedback)
            for a in q.answers
        ]
    elif q.kind == "numerical":
        item["answers"] = [_numerical_yaml_data(a) for a in q.answers]
    else:
        choices = {o.id: o.text for o in q.options}
        answered = {a.option for a in q.answers}
        item["pairs"] = [{"prompt": a.text, "answer": choices[a.option]} for a in q.answers] + [
            {"answer": o.text} for o in q.options if o.id not in answered
        ]
    if q.explanation:
        item["explanation"] = q.explanation
    if q.points != 1:
        item["points"] = q.points
    return item


def _short_yaml_data(a: Answer) -> str | dict[str, Any]:
    if a == Answer(a.text):
        return a.text
    return _with_feedback({"text": a.text, "weight": _number(a.weight)}, a.feedback)


def _with_feedback(data: dict[str, Any], feedback: str) -> dict[str, Any]:
    return {**data, "feedback": feedback} if feedback else data


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _option_yaml_data(o: Option) -> dict[str, Any]:
    data: dict[str, Any] = {"text": o.text}
    if o.weight is not None:
        data["weight"] = _number(o.weight)
    elif o.correct:
        data["correct"] = True
    return _with_feedback(data, o.feedback)


def _numerical_yaml_data(a: Answer) -> dict[str, Any]:
    data: dict[str, Any] = {"value": a.text if a.text == "*" else _number(float(a.text))}
    if a.tolerance:
        data["tolerance"] = _number(a.tolerance)
    if a.weight != MAX_WEIGHT:
        data["weight"] = _number(a.weight)
    return _with_feedback(data, a.feedback)


def _sync_questions(session: Session, quiz: Quiz, bank: Sequence[Question], *, remove_missing: bool) -> bool:
    """Make the quiz's rows match `bank` (by question id); returns whether anything changed."""
    rows = {r.key: r for r in quiz.questions}
    changed = False
    base = 0 if remove_missing else max((r.position for r in quiz.questions), default=0)
    for index, q in enumerate(bank, start=1):
        row = rows.get(q.id)
        if row is None:
            row = QuizQuestion(quiz_id=quiz.id, key=q.id, position=base + index)
            _apply_question(row, q)
            quiz.questions.append(row)
            changed = True
            continue
        changed |= _apply_question(row, q)
        if remove_missing and row.position != index:
            row.position = index
            changed = True
    if remove_missing:
        wanted = {q.id for q in bank}
        for row in list(quiz.questions):
            if row.key not in wanted:
                quiz.questions.remove(row)
                changed = True
    session.flush()
    return changed


def _apply_settings(quiz: Quiz, defn: QuizDefinition) -> bool:
    values = {
        "title": defn.title,
        "pass_percent": float(defn.pass_percent),
        "time_limit_minutes": defn.time_limit_minutes,
        "max_attempts": defn.max_attempts,
        "draw": defn.draw,
        "shuffle_options": defn.shuffle_options,
        "show_review": defn.show_review,
    }
    changed = False
    for key, value in values.items():
        if getattr(quiz, key) != value:
            setattr(quiz, key, value)
            changed = True
    return changed


def import_quiz_definition(session: Session, course: Course, slug: str, defn: QuizDefinition) -> str:
    """Create or update a course's quiz from its file form: "created", "updated" or "unchanged"."""
    digest = definition_hash(defn)
    quiz = session.scalars(
        select(Quiz)
        .where(Quiz.course_id == course.id, Quiz.slug == slug, Quiz.tenant_id == bound_tenant_id(session))
        .options(selectinload(Quiz.questions))
    ).first()
    if quiz is not None and quiz.content_hash == digest:
        return "unchanged"
    outcome = "updated"
    if quiz is None:
        quiz = Quiz(course_id=course.id, slug=slug, title=defn.title)
        quiz.questions = []
        session.add(quiz)
        outcome = "created"
    _apply_settings(quiz, defn)
    session.flush()
    _sync_questions(session, quiz, defn.questions, remove_missing=True)
    quiz.content_hash = digest
    quiz.updated_at = now_utc()
    session.flush()
    return outcome


# --- reading quizzes ----------------------------------------------------------------------------------------


def get_quiz(session: Session, quiz_id: int) -> Quiz:
    """A quiz of this portal or a national one, with its questions."""
    quiz = session.scalars(
        select(Quiz).where(Quiz.id == quiz_id).options(selectinload(Quiz.questions))
    ).first()
    if quiz is None:
        raise NotFound(N_("Quiz not found."), code="quiz_not_found")
    return quiz


def course_quizzes(session: Session, course_id: int) -> list[Quiz]:
    return list(session.scalars(select(Quiz).where(Quiz.course_id == course_id).order_by(Quiz.slug)))


def quiz_ids_by_slug(session: Session, course_id: int) -> dict[str, int]:
    return {
        slug: quiz_id
        for quiz_id, slug in session.execute(select(Quiz.id, Quiz.slug).where(Quiz.course_id == course_id))
    }


def quiz_for_lesson(session: Session, lesson: Lesson | LessonSnapshot) -> Quiz | None:
    if lesson.kind != QUIZ or not lesson.quiz_slug:
        return None
    return session.scalars(
        select(Quiz).where(Quiz.course_id == lesson.course_id, Quiz.slug == lesson.quiz_slug)
    ).first()


def ensure_lesson_completable(session: Session, lesson: Lesson | LessonSnapshot) -> None:
    """A quiz lesson with a real quiz is completed by passing the quiz, not by a button."""
    if quiz_for_lesson(session, lesson) is not None:
        raise Forbidden(N_("Pass the quiz to complete this lesson."), code="quiz_required")


# --- attempts -----------------------------------------------------------------------------------------------


def attempt_questions(attempt: QuizAttempt) -> list[Question]:
    return [question_from_json(q) for q in attempt.questions]


def _attempt_stmt(user: User):  # type: ignore[no-untyped-def]
    return select(QuizAttempt).where(QuizAttempt.user_id == user.id)


def active_attempt(session: Session, user: User, quiz: Quiz) -> QuizAttempt | None:
    return session.scalars(
        _attempt_stmt(user).where(QuizAttempt.quiz_id == quiz.id, QuizAttempt.submitted_at.is_(None))
    ).first()


def list_attempts(session: Session, user: User, quiz: Quiz) -> list[QuizAttempt]:
    return list(
        session.scalars(
            _attempt_stmt(user).where(QuizAttempt.quiz_id == quiz.id).order_by(QuizAttempt.number)
        )
    )


def get_attempt(session: Session, user: User, attempt_id: int) -> QuizAttempt:
    """One of the learner's own attempts; anybody else's is "not found"."""
    attempt = session.scalars(_attempt_stmt(user).where(QuizAttempt.id == attempt_id)).first()
    if attempt is None:
        raise NotFound(N_("Attempt not found."), code="attempt_not_found")
    return attempt


def _require_enrolment(session: Session, user: User, quiz: Quiz) -> Enrolment:
    enrolment = progress_service.get_enrolment(session, user.id, quiz.course_id)
    if enrolment is None:
        raise Forbidden(N_("Enrol in the course to take its quiz."), code="not_enrolled")
    return enrolment


def start_attempt(
    session: Session,
    user: User,
    quiz: Quiz,
    *,
    now: dt.datetime | None = None,
    rng: random.Random | None = None,
    grace: dt.timedelta = DEFAULT_GRACE,
) -> tuple[QuizAttempt, bool]:
    """Start an attempt, or return the active one. Returns (attempt, newly started?)."""
    now = now or now_utc()
    enrolment = _require_enrolment(session, user, quiz)
    active = active_attempt(session, user, quiz)
    if active is not None:
        if not submission.late(active.deadline, now, grace):
            return active, False
        finish_expired(session, active, now=now, grace=grace)
    used = (
        session.scalar(
            select(func.count())
            .select_from(QuizAttempt)
            .where(QuizAttempt.user_id == user.id, QuizAttempt.quiz_id == quiz.id)
        )
        or 0
    )
    if quiz.max_attempts is not None and used >= quiz.max_attempts:
        raise Conflict(
            N_("You have used all {max} attempts of this quiz."), code="attempt_limit", max=quiz.max_attempts
        )
    bank = bank_of(quiz)
    if not bank:
        raise Conflict(N_("This quiz has no questions yet."), code="quiz_empty")
    rng = rng or random.SystemRandom()
    drawn = draw_questions(bank, quiz.draw, rng)
    if quiz.shuffle_options:
        drawn = [shuffle_options(q, rng) for q in drawn]
    attempt = QuizAttempt(
        user_id=user.id,
        enrolment_id=enrolment.id,
        quiz_id=quiz.id,
        number=used + 1,
        questions=[question_to_json(q) for q in drawn],
        answers={},
        status=IN_PROGRESS,
        started_at=now,
        deadline=now + dt.timedelta(minutes=quiz.time_limit_minutes) if quiz.time_limit_minutes else None,
    )
    try:
        with session.begin_nested():
            session.add(attempt)
    except IntegrityError:
        # Another request (a double click) started one first: that one is the active attempt.
        found = active_attempt(session, user, quiz)
        if found is None:
            raise Conflict(N_("Please try again."), code="attempt_race") from None
        return found, False
    if enrolment.started_at is None:
        enrolment.started_at = now
        session.flush()
    return attempt, True


def save_answers(
    session: Session,
    attempt: QuizAttempt,
    raw: Mapping[str, Any],
    *,
    now: dt.datetime | None = None,
    grace: dt.timedelta = DEFAULT_GRACE,
) -> QuizAttempt:
    """Autosave: store answers of an active attempt (what a late attempt is graded with)."""
    now = now or now_utc()
    if not attempt.is_active:
        raise Conflict(N_("This attempt has already been submitted."), code="attempt_submitted")
    if submission.late(attempt.deadline, now, grace):
        raise Conflict(N_("The time for this attempt is over."), code="attempt_time_over")
    answers = {**(attempt.answers or {}), **clean_answers(attempt_questions(attempt), raw)}
    # Conditional, so an autosave racing the submission cannot change graded answers.
    session.execute(
        update(QuizAttempt)
        .where(QuizAttempt.id == attempt.id, QuizAttempt.submitted_at.is_(None))
        .values(answers=answers)
        .execution_options(synchronize_session=False)
    )
    session.refresh(attempt)
    return attempt


def submit_attempt(
    session: Session,
    attempt: QuizAttempt,
    raw: Mapping[str, Any] | None,
    *,
    now: dt.datetime | None = None,
    grace: dt.timedelta = DEFAULT_GRACE,
    write_after_grading: bool = False,
) -> AttemptResult:
    """Grade an attempt once (`app/quizzes/submission.py`). A second (or concurrent) submission gets the
    stored result.

    `write_after_grading`: the session's transaction so far only read (a `@manual_write` route); it ends and
    the writes take the write lock (`begin_write`) in a short transaction of their own.
    """
    if attempt.is_active:
        _finish(
            session, attempt, raw, now=now or now_utc(), grace=grace, write_after_grading=write_after_grading
        )
    elif write_after_grading:
        session.commit()  # nothing to write: end the read transaction
    return attempt_result(session, attempt)


def finish_expired(
    session: Session,
    attempt: QuizAttempt,
    *,
    now: dt.datetime | None = None,
    grace: dt.timedelta = DEFAULT_GRACE,
) -> None:
    """Grade an attempt whose time ran out, with the answers saved by then, as of its deadline."""
    _finish(session, attempt, None, now=now or now_utc(), grace=grace)


def _finish(
    session: Session,
    attempt: QuizAttempt,
    raw: Mapping[str, Any] | None,
    *,
    now: dt.datetime,
    grace: dt.timedelta,
    write_after_grading: bool = False,
) -> None:
    if write_after_grading:
        session.commit()
        core_db.begin_write(session)  # the claim decides a race, whatever was read before
    store = progress_service.session_store(session, attempt.tenant_id)
    with store.writing() as db:
        row = submission.AttemptRow(
            **{f: getattr(attempt, f) for f in submission.AttemptRow.__dataclass_fields__}
        )
        submission.finish_in(db, store, row, raw, grace=grace, now=now)
    session.refresh(attempt)


def attempt_result(session: Session, attempt: QuizAttempt) -> AttemptResult:
    code = session.scalar(select(Certificate.code).where(Certificate.enrolment_id == attempt.enrolment_id))
    return AttemptResult(
        score=attempt.score or 0,
        max_score=attempt.max_score or 0,
        percent=attempt.percent or 0.0,
        passed=bool(attempt.passed),
        certificate_code=code,
    )


def refresh_if_expired(
    session: Session,
    attempt: QuizAttempt,
    *,
    now: dt.datetime | None = None,
    grace: dt.timedelta = DEFAULT_GRACE,
) -> QuizAttempt:
    """Grade an attempt whose time (and grace) ran out before showing it."""
    now = now or now_utc()
    if attempt.is_active and submission.late(attempt.deadline, now, grace):
        finish_expired(session, attempt, now=now, grace=grace)
    return attempt


@dataclass
class ReviewItem:
    question: Question
    answer: Any
    correct: bool
    fraction: float = 0.0
    state: str = "wrong"  # right, partial or wrong
    feedback: list[str] = field(default_factory=list)  # what the learner's answer earned (Moodle's feedback)


def review(attempt: QuizAttempt) -> list[ReviewItem]:
    """Per question: what the learner answered, the share of points it earned and the feedback it earned
    (after submission only)."""
    if attempt.is_active:
        raise Forbidden(N_("Submit the attempt to see its review."), code="attempt_active")
    questions = attempt_questions(attempt)
    answers = attempt.answers or {}
    result = grade(questions, answers)
    return [
        ReviewItem(
            q, answers.get(q.id), r.correct, r.fraction, r.state, answer_feedback(q, answers.get(q.id))
        )
        for q, r in zip(questions, result.results, strict=True)
    ]


def export_gift_text(quiz: Quiz) -> str:
    """The quiz's bank as a GIFT file for Moodle (the quiz must be loaded with its questions)."""
    return export_gift(bank_of(quiz))


# --- authoring ----------------------------------------------------------------------------------------------


def get_quiz_for_edit(session: Session, user: User, quiz_id: int) -> Quiz:
    quiz = get_quiz(session, quiz_id)
    catalog_service.ensure_editable(session, user, quiz.tenant_id)
    return quiz


def create_quiz(session: Session, course: Course, *, title: str, slug: str | None = None) -> Quiz:
    title = catalog_service.clean_title(title)
    slug = catalog_service.slugify(slug or title, fallback="kiem-tra")
    if session.scalar(select(Quiz.id).where(Quiz.course_id == course.id, Quiz.slug == slug)) is not None:
        raise Conflict(N_("This course already has a quiz with this address."), code="quiz_slug_taken")
    quiz = Quiz(course_id=course.id, slug=slug, title=title)
    quiz.questions = []
    session.add(quiz)
    session.flush()
    return quiz


def _edited(quiz: Quiz) -> None:
    quiz.content_hash = ""  # edited in the browser: the next file import rewrites it
    quiz.updated_at = now_utc()


def update_settings(
    session: Session,
    quiz: Quiz,
    *,
    title: str,
    pass_percent: float,
    time_limit_minutes: int | None,
    max_attempts: int | None,
    draw: int | None,
    shuffle_options: bool,
    show_review: bool,
) -> Quiz:
    title = catalog_service.clean_title(title)
    if not 0 <= pass_percent <= 100:
        raise Invalid(N_("The pass mark is a percentage from 0 to 100."), code="quiz_pass_percent")
    limits = {"time_limit_minutes": time_limit_minutes, "max_attempts": max_attempts, "draw": draw}
    for key, value in limits.items():
        if value is not None and not 1 <= value <= SETTING_MAXIMUM[key]:
            message = (
                SETTING_MESSAGES[key]
                if value > 1
                else N_("Limits are whole numbers of at least 1, or empty.")
            )
            raise Invalid(
                message,
                code="quiz_number",
                max=SETTING_MAXIMUM[key],
            )
    if draw is not None and draw > len(quiz.questions):
        raise Invalid(
            N_("The quiz draws {draw} questions but its bank has only {count}."),
            code="quiz_draw",
            draw=draw,
            count=len(quiz.questions),
        )
    quiz.title = title
    quiz.pass_percent = float(pass_percent)
    quiz.time_limit_minutes = time_limit_minutes
    quiz.max_attempts = max_attempts
    quiz.draw = draw
    quiz.shuffle_options = shuffle_options
    quiz.show_review = show_review
    _edited(quiz)
    session.flush()
    return quiz


def import_gift(session: Session, quiz: Quiz, text: str) -> int:
    """Add a GIFT bank's questions to the quiz: a titled question whose id exists replaces that question,
    untitled ones are always added; all or nothing.

    Returns the number of questions read. Bad input raises `Invalid` naming every problem's line, and saves
    nothing.
    """
    bank = parse_gift(text, taken={r.key for r in quiz.questions})  # raises before anything is written
    _sync_questions(session, quiz, bank, remove_missing=False)
    _edited(quiz)
    session.flush()
    return len(bank)


def save_question(session: Session, quiz: Quiz, row: QuizQuestion | None, question: Question) -> QuizQuestion:
    """Add or replace one question (checked like a file's); `row` None adds it at the end."""
    check_bank((question,))
    taken = {r.key for r in quiz.questions if r is not row}
    if question.id in taken:
        raise Conflict(
            N_("Another question already uses the id {question}."), code="question_id", question=question.id
        )
    if row is None:
        row = QuizQuestion(
            quiz_id=quiz.id,
            key=question.id,
            position=max((r.position for r in quiz.questions), default=0) + 1,
        )
        quiz.questions.append(row)
    row.key = question.id
    _apply_question(row, question)
    _edited(quiz)
    session.flush()
    return row


def get_question(quiz: Quiz, question_id: int) -> QuizQuestion:
    row = next((r for r in quiz.questions if r.id == question_id), None)
    if row is None:
        raise NotFound(N_("Question not found."), code="question_not_found")
    return row


def delete_question(session: Session, quiz: Quiz, row: QuizQuestion) -> None:
    if quiz.draw is not None and quiz.draw > len(quiz.questions) - 1:
        raise Invalid(
            N_("The quiz draws {draw} questions but its bank has only {count}."),
            code="quiz_draw",
            draw=quiz.draw,
            count=len(quiz.questions) - 1,
        )
    quiz.questions.remove(row)
    _edited(quiz)
    session.flush()


def next_question_id(quiz: Quiz) -> str:
    taken = {r.key for r in quiz.questions}
    n = len(taken) + 1
    while f"q{n:02d}" in taken:
        n += 1
    return f"q{n:02d}"


def editable_in_browser(q: Question) -> bool:
    """Whether the browser's editor can change this question without losing anything: its kinds, Markdown,
    right-or-wrong options and accepted answers without weights or per-answer feedback."""
    return (
        q.kind in EDITOR_KINDS
        and q.format == "markdown"
        and not any(o.weight is not None or o.feedback for o in q.options)
        and all(a == Answer(a.text) for a in q.answers)
    )


def build_question(
    *,
    question_id: str,
    kind: str,
    text: str,
    options: Sequence[tuple[str, bool]],
    answer_true: bool,
    answers: Sequence[str],
    explanation: str,
    points: int,
) -> Question:
    """A question from the editor's form fields (empty option rows are skipped)."""
    from app.quizzes.bank import block_text, letter_options, true_false_options

    if kind not in EDITOR_KINDS:
        raise Invalid(N_("Unknown question kind."), code="quiz_kind")
    opts: tuple[Option, ...] = ()
    accepted: tuple[Answer, ...] = ()
    if kind in ("single", "multiple"):
        opts = letter_options([(nfc(t), c) for t, c in options if nfc(t)], question=question_id)
    elif kind == "true_false":
        opts = true_false_options(answer_true)
    else:
        accepted = tuple(Answer(a) for a in dict.fromkeys(nfc(a) for a in answers if nfc(a)))
    return Question(
        id=question_id.strip(),
        kind=cast(QuestionKind, kind),
        text=block_text(text),
        options=opts,
        answers=accepted,
        explanation=block_text(explanation),
        points=points,
    )
