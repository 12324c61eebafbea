"""Enrolment and lesson progress: idempotent completion, stored figures, resume and course completion."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, cast

from sqlalchemy import CursorResult, case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from app.accounts.models import User
from app.catalog import service as catalog_service
from app.catalog.models import QUIZ, Course, Lesson
from app.certificates import service as certificates_service
from app.cohorts.models import Cohort
from app.core.db import utcnow
from app.core.errors import N_, Forbidden, Invalid, NotFound
from app.core.i18n import VN_TZ
from app.progress.models import Enrolment, LessonProgress
from app.quizzes.models import Quiz, QuizAttempt
from app.reports import counters as report_counters


def percent_of(done: int, total: int) -> int:
    return min(100, done * 100 // total) if total > 0 else 0


def get_enrolment(session: Session, user_id: int, course_id: int) -> Enrolment | None:
    return session.scalars(
        select(Enrolment).where(Enrolment.user_id == user_id, Enrolment.course_id == course_id)
    ).first()


def enrol(
    session: Session, user: User, course: Course, *, cohort: Cohort | None = None, self_service: bool = True
) -> tuple[Enrolment, bool]:
    """Enrol a learner (in a cohort, or in the course alone). Returns (enrolment, newly enrolled?).

    Enrolling twice is harmless: the second call returns the first enrolment. Self-service enrolment needs a
    published course and, for a cohort, one that allows self-enrolment and is open today.
    """
    if cohort is not None and cohort.course_id != course.id:
        raise Invalid(N_("This cohort is for another course."), code="cohort_course")
    if self_service:
        if not course.is_published:
            raise Forbidden(N_("This course is not open for enrolment."), code="not_published")
        if cohort is not None and not (cohort.self_enrolment and cohort.is_open_on(local_today())):
            raise Forbidden(N_("This cohort does not accept self-enrolment now."), code="cohort_closed")
    existing = get_enrolment(session, user.id, course.id)
    if existing is not None:
        if cohort is not None and existing.cohort_id is None:
            existing.cohort_id = cohort.id
            session.flush()
            return existing, True
        return existing, False
    enrolment = Enrolment(
        user_id=user.id,
        course_id=course.id,
        cohort_id=cohort.id if cohort else None,
        lessons_total=course.required_lessons,
    )
    try:
        with session.begin_nested():
            session.add(enrolment)
    except IntegrityError:
        # A double click got there first.
        found = get_enrolment(session, user.id, course.id)
        if found is None:
            raise
        return found, False
    return enrolment, True


def local_today(now: dt.datetime | None = None) -> dt.date:
    return (now or utcnow()).astimezone(VN_TZ).date()


def completed_lesson_ids(session: Session, enrolment: Enrolment) -> set[int]:
    return set(
        session.scalars(select(LessonProgress.lesson_id).where(LessonProgress.enrolment_id == enrolment.id))
    )


def sync_totals(session: Session, enrolment: Enrolment, course: Course) -> None:
    """Re-base the stored figures when the course's required lessons changed since the last event."""
    if enrolment.lessons_total == course.required_lessons:
        return
    done = (
        session.scalar(
            select(func.count())
            .select_from(LessonProgress)
            .join(Lesson, Lesson.id == LessonProgress.lesson_id)
            .where(LessonProgress.enrolment_id == enrolment.id, Lesson.required)
        )
        or 0
    )
    enrolment.lessons_total = course.required_lessons
    enrolment.lessons_completed = done
    enrolment.percent = 100 if enrolment.completed_at else percent_of(done, course.required_lessons)
    session.flush()


def complete_lesson(
    session: Session, enrolment: Enrolment, lesson: Lesson, *, now: dt.datetime | None = None
) -> bool:
    """Mark a lesson complete; True when this call counted it (False if it already was).

    Safe under double clicks and concurrent requests: the unique (tenant, enrolment, lesson) constraint
    lets one insert win, and only the winner bumps the stored figures, with an atomic SQL update.
    """
    if lesson.course_id != enrolment.course_id:
        raise NotFound(N_("Lesson not found."), code="lesson_not_found")
    now = now or utcnow()
    try:
        with session.begin_nested():
            session.add(LessonProgress(enrolment_id=enrolment.id, lesson_id=lesson.id, completed_at=now))
    except IntegrityError:
        counted = False
    else:
        counted = True
    # The first lesson starts the course: a conditional UPDATE, so exactly one request counts the start.
    started_now = (
        enrolment.started_at is None
        and cast(
            CursorResult[Any],
            session.execute(
                update(Enrolment)
                .where(Enrolment.id == enrolment.id, Enrolment.started_at.is_(None))
                .values(started_at=now)
                .execution_options(synchronize_session=False)
            ),
        ).rowcount
        == 1
    )
    values: dict[str, object] = {
        "last_lesson_id": lesson.id,
        "started_at": func.coalesce(Enrolment.started_at, now),
    }
    if counted and lesson.required:
        values["lessons_completed"] = Enrolment.lessons_completed + 1
        values["percent"] = case(
            (Enrolment.lessons_total <= 0, 0),
            (Enrolment.lessons_completed + 1 >= Enrolment.lessons_total, 100),
            else_=(Enrolment.lessons_completed + 1) * 100 // Enrolment.lessons_total,
        )
    session.execute(
        update(Enrolment)
        .where(Enrolment.id == enrolment.id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.refresh(enrolment)
    if started_now:
        before = report_counters.state_of(enrolment)
        report_counters.record_change(session, dataclasses.replace(before, started_at=None), enrolment)
    check_completion(session, enrolment, now=now)
    return counted


def required_quiz_ids(session: Session, course: Course) -> list[int]:
    """Quizzes to pass: course.yaml's `completion.quizzes` and the quizzes of required quiz lessons.

    A quiz slug with no quiz behind it (a placeholder lesson of a course still being written) is ignored.
    """
    slugs = set(course.completion_quizzes or [])
    slugs |= {
        slug
        for slug in session.scalars(
            select(Lesson.quiz_slug).where(
                Lesson.course_id == course.id, Lesson.kind == QUIZ, Lesson.required
            )
        )
        if slug
    }
    if not slugs:
        return []
    return list(session.scalars(select(Quiz.id).where(Quiz.course_id == course.id, Quiz.slug.in_(slugs))))


def passed_quiz_ids(session: Session, enrolment: Enrolment) -> set[int]:
    return set(
        session.scalars(
            select(QuizAttempt.quiz_id).where(
                QuizAttempt.enrolment_id == enrolment.id, QuizAttempt.passed.is_(True)
            )
        )
    )


def record_quiz_result(
    session: Session,
    enrolment: Enrolment,
    quiz: Quiz,
    percent: float,
    passed: bool,
    *,
    now: dt.datetime | None = None,
) -> None:
    """A graded attempt: keep the best score; a pass completes the quiz's lessons and maybe the course."""
    now = now or utcnow()
    # The course's own row (its completion quizzes) and the quiz's lessons: not the whole course with every
    # lesson body, which cost a quiz submission more than the rest of its work.
    course = session.get(Course, enrolment.course_id)
    if course is None:
        raise NotFound(N_("Course not found."), code="course_not_found")
    if quiz.id in required_quiz_ids(session, course) and (
        enrolment.best_score_percent is None or percent > enrolment.best_score_percent
    ):
        enrolment.best_score_percent = percent
        session.flush()
    if not passed:
        return
    quiz_lessons = session.scalars(
        select(Lesson)
        .where(Lesson.course_id == course.id, Lesson.kind == QUIZ, Lesson.quiz_slug == quiz.slug)
        .order_by(Lesson.id)
    )
    for lesson in quiz_lessons.all():
        complete_lesson(session, enrolment, lesson, now=now)
    check_completion(session, enrolment, now=now)


def check_completion(session: Session, enrolment: Enrolment, *, now: dt.datetime | None = None) -> bool:
    """Is the course complete for this enrolment? Marks it (once, and late if after the cohort closed).

    The one place that decides completion: every required lesson complete and every required quiz passed.
    Completing issues the certificate (when the course gives one) in the same transaction. The figures are set
    through ORM attributes, so listeners on Enrolment (reports) see them.
    """
    if enrolment.completed_at is not None:
        return True
    if enrolment.lessons_completed < enrolment.lessons_total:
        return False
    course = catalog_service.get_course_by_id(session, enrolment.course_id)
    quiz_ids = required_quiz_ids(session, course)
    if enrolment.lessons_total <= 0 and not quiz_ids:
        return False
    if not set(quiz_ids) <= passed_quiz_ids(session, enrolment):
        return False
    # Lock the row (PostgreSQL; SQLite writers are already serialised) and read it again: a concurrent
    # request may have completed the course since this one loaded it.
    session.flush()
    session.refresh(enrolment, with_for_update=True)
    if enrolment.completed_at is not None:
        return True
    now = now or utcnow()
    late = False
    if enrolment.cohort_id is not None:
        cohort = session.get(Cohort, enrolment.cohort_id)
        late = bool(cohort and cohort.closes_on and local_today(now) > cohort.closes_on)
    enrolment.completed_at = now
    enrolment.late = late
    enrolment.percent = 100
    session.flush()
    if course.certificate:
        certificates_service.issue_certificate(session, enrolment, course, now=now)
    return True


def resume_lesson(
    session: Session, enrolment: Enrolment | None, course: Course, *, last_lesson_id: int | None = None
) -> Lesson | None:
    """Where "Continue" goes: the first incomplete lesson from the last visited one on, else from the start.

    With everything complete, the last visited lesson. `last_lesson_id` overrides the stored last lesson (a
    visit still in this worker's buffer, `app/progress/visits.py`).
    """
    lessons = catalog_service.course_lessons(course)
    if not lessons:
        return None
    if enrolment is None:
        return lessons[0]
    done = completed_lesson_ids(session, enrolment)
    last = last_lesson_id or enrolment.last_lesson_id
    start = next((i for i, x in enumerate(lessons) if x.id == last), 0)
    for lesson in lessons[start:] + lessons[:start]:
        if lesson.id not in done:
            return lesson
    return next((x for x in lessons if x.id == last), lessons[0])


def my_enrolments(session: Session, user: User) -> list[Enrolment]:
    return list(
        session.scalars(
            select(Enrolment)
            .where(Enrolment.user_id == user.id)
            .options(selectinload(Enrolment.course), selectinload(Enrolment.cohort))
            .order_by(Enrolment.completed_at.is_not(None), Enrolment.enrolled_at.desc())
        )
    )
