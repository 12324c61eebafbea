"""Enrolments for code that holds an ORM session: enrol, resume, my learning, and the learning path's rules
(`app/progress/learning.py`) run inside the caller's transaction (completion, quiz results)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from app.accounts.models import User
from app.catalog import service as catalog_service
from app.catalog.models import Course, Lesson
from app.cohorts.models import Cohort
from app.core.cache import Cache
from app.core.db import utcnow
from app.core.errors import N_, Forbidden, Invalid, NotFound
from app.progress import learning
from app.progress.learning import local_today
from app.progress.models import Enrolment, LessonProgress
from app.quizzes.models import Quiz
from app.tenancy import service as tenancy_service
from app.tenancy.statements import TenantConnection


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


def completed_lesson_ids(session: Session, enrolment: Enrolment) -> set[int]:
    return set(
        session.scalars(select(LessonProgress.lesson_id).where(LessonProgress.enrolment_id == enrolment.id))
    )


class _SessionStore:
    """A `learning.Store` over an ORM session's own transaction, for code that holds a session (services,
    jobs, the CLI, tests): the learning path's rules, run inside the caller's transaction."""

    def __init__(self, session: Session, tenant_id: int) -> None:
        self.session = session
        self.tenant_id = tenant_id
        national = tenancy_service.national_tenant_id(session)
        self.readable = tuple(sorted({tenant_id} | ({national} if national is not None else set())))
        self.cache: Cache | None = None  # content loads from the session's own view of the database
        self.content_version: str | None = None
        self.content_ttl = 0.0
        self.parsed: MutableMapping[str, Any] | None = None

    @contextmanager
    def reading(self) -> Iterator[TenantConnection]:
        self.session.flush()
        yield TenantConnection(self.session.connection(), self.tenant_id)

    writing = reading

    @contextmanager
    def content_session(self) -> Iterator[Session]:
        yield self.session


def session_store(session: Session, tenant_id: int) -> _SessionStore:
    """The learning path's store over the session's own transaction, for one tenant."""
    return _SessionStore(session, tenant_id)


def _plan_and_progress(
    session: Session, enrolment: Enrolment
) -> tuple[_SessionStore, learning.CoursePlan, learning.Progress]:
    store = _SessionStore(session, enrolment.tenant_id)
    plan = learning.course_plan(store, enrolment.course_id)
    session.flush()
    progress = learning.Progress(
        **{name: getattr(enrolment, name) for name in learning.Progress.__dataclass_fields__}
    )
    return store, plan, progress


def complete_lesson(
    session: Session, enrolment: Enrolment, lesson: Lesson, *, now: dt.datetime | None = None
) -> bool:
    """Mark a lesson complete (`learning.record_completion`); True when this call counted it.

    Safe under double clicks and concurrent requests: the unique (tenant, enrolment, lesson) row lets one
    insert win, and only the winner bumps the stored figures. `enrolment` is refreshed afterwards.
    """
    if lesson.course_id != enrolment.course_id:
        raise NotFound(N_("Lesson not found."), code="lesson_not_found")
    store, plan, progress = _plan_and_progress(session, enrolment)
    outline_lesson = next((x for x in plan.outline.lessons if x.id == lesson.id), None)
    if outline_lesson is None:
        raise NotFound(N_("Lesson not found."), code="lesson_not_found")
    with store.writing() as db:
        _, counted = learning.record_completion(db, progress, outline_lesson, plan, now or utcnow())
    session.refresh(enrolment)
    return counted


def record_quiz_result(
    session: Session,
    enrolment: Enrolment,
    quiz: Quiz,
    percent: float,
    passed: bool,
    *,
    now: dt.datetime | None = None,
) -> None:
    """A graded attempt (`learning.record_quiz_result`): the best score, and a pass completes the quiz's
    lessons and maybe the course. `enrolment` is refreshed afterwards."""
    store, plan, progress = _plan_and_progress(session, enrolment)
    with store.writing() as db:
        learning.record_quiz_result(db, progress, quiz.id, percent, passed, plan, now or utcnow())
    session.refresh(enrolment)


def check_completion(session: Session, enrolment: Enrolment, *, now: dt.datetime | None = None) -> bool:
    """Is the course complete for this enrolment? Completes it if it now is
    (`learning.complete_course_if_done`, the one place that decides)."""
    store, plan, progress = _plan_and_progress(session, enrolment)
    with store.writing() as db:
        after = learning.complete_course_if_done(db, progress, plan, now or utcnow())
    session.refresh(enrolment)
    return after.completed_at is not None


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
