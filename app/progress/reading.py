"""The lesson read path (page and API): cached content, one query for the learner's state, a safe visit write.

Who may read a lesson is decided here, for the page, the API and the hot path's fallback: enrolled learners,
or staff; never another tenant's course or a draft. Three things make it cheap:
- the lesson and its course's outline come from the content cache (`catalog_service.lesson_snapshot`,
  `course_outline`), checked against the session's tenant on every read;
- no lesson body but the one shown is read;
- the visit (last lesson, start time) is written only when it changes, as its own short transaction: on
  SQLite a reader cannot become a writer once another writer has committed since it began ("database is
  locked" under load), so the read transaction ends first and the write takes the lock up front (BEGIN
  IMMEDIATE), and commits before the page renders.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

from sqlalchemy.orm import Session

from app.accounts.models import User
from app.catalog import service as catalog_service
from app.catalog.models import Lesson
from app.catalog.service import CourseOutline, LessonSnapshot, OutlineLesson
from app.core.cache import Cache
from app.core.db import begin_write, utcnow
from app.core.errors import N_, Forbidden, NotFound
from app.progress import service
from app.progress.models import Enrolment
from app.quizzes import service as quizzes_service
from app.tenancy.scoping import bound_tenant_id


@dataclass
class ReadingView:
    lesson: LessonSnapshot
    course: CourseOutline
    enrolment: Enrolment | None
    previous: OutlineLesson | None
    next: OutlineLesson | None
    done: set[int]
    position: int
    count: int


class Place(TypedDict):
    previous: OutlineLesson | None
    next: OutlineLesson | None
    position: int
    count: int


def place(course: CourseOutline, lesson_id: int) -> Place:
    """Where the lesson sits in its course: the lessons before and after it, its number, how many."""
    lessons = course.lessons
    index = next(i for i, x in enumerate(lessons) if x.id == lesson_id)
    return Place(
        previous=lessons[index - 1] if index > 0 else None,
        next=lessons[index + 1] if index + 1 < len(lessons) else None,
        position=index + 1,
        count=len(lessons),
    )


def open_lesson_for_reading(
    session: Session, user: User, lesson_id: int, cache: Cache | None, *, ttl: float = 60.0
) -> ReadingView:
    lesson = catalog_service.lesson_snapshot(session, cache, lesson_id, ttl=ttl)
    course = catalog_service.course_outline(session, cache, lesson.course_id, ttl=ttl)
    staff = catalog_service.is_staff(user)
    if not course.is_published and not (staff and course.tenant_id == bound_tenant_id(session)):
        raise NotFound(N_("Lesson not found."), code="lesson_not_found")
    enrolment = service.get_enrolment(session, user.id, course.id)
    if enrolment is None and not staff:
        raise Forbidden(N_("Enrol in the course to open its lessons."), code="not_enrolled")
    done: set[int] = set()
    if enrolment is not None:
        if enrolment.lessons_total != course.required_lessons:  # the course changed: rare, the full path
            service.sync_totals(session, enrolment, catalog_service.get_course_by_id(session, course.id))
        done = service.completed_lesson_ids(session, enrolment)
        record_visit(session, enrolment, lesson.id)
    return ReadingView(lesson, course, enrolment, done=done, **place(course, lesson.id))


def complete_lesson(
    session: Session, user: User, lesson_id: int, cache: Cache | None, *, ttl: float = 60.0
) -> ReadingView:
    """Mark a lesson complete with the read path's checks (enrolled learners only) and cached outline.

    The hot write: it reads as little as it can (cached lesson and outline, the enrolment), and leaves
    counting and completion to `service.complete_lesson`. Commits before returning: the caller's route must
    be marked `@manual_write`.
    """
    snapshot = catalog_service.lesson_snapshot(session, cache, lesson_id, ttl=ttl)
    course = catalog_service.course_outline(session, cache, snapshot.course_id, ttl=ttl)
    if not course.is_published and not (
        catalog_service.is_staff(user) and course.tenant_id == bound_tenant_id(session)
    ):
        raise NotFound(N_("Lesson not found."), code="lesson_not_found")
    enrolment = service.get_enrolment(session, user.id, course.id)
    if enrolment is None:
        raise Forbidden(N_("Enrol in the course to open its lessons."), code="not_enrolled")
    if enrolment.lessons_total != course.required_lessons:
        service.sync_totals(session, enrolment, catalog_service.get_course_by_id(session, course.id))
    # The checks above only read. Write in a short transaction of its own, taken and committed within this
    # one call: the SQLite write lock is not held across the request's other thread hops (the route is
    # `@manual_write`). Counting stays safe: the unique (enrolment, lesson) row and the atomic UPDATE of the
    # figures in `service.complete_lesson` decide, whatever was read before.
    session.commit()
    begin_write(session)
    lesson = session.get(Lesson, lesson_id)
    if lesson is None:
        raise NotFound(N_("Lesson not found."), code="lesson_not_found")
    quizzes_service.ensure_lesson_completable(session, lesson)  # a quiz lesson is completed by passing it
    service.complete_lesson(session, enrolment, lesson)
    session.commit()
    return ReadingView(snapshot, course, enrolment, done={lesson_id}, **place(course, lesson_id))


def record_visit(session: Session, enrolment: Enrolment, lesson_id: int) -> None:
    if enrolment.last_lesson_id == lesson_id and enrolment.started_at is not None:
        return  # re-reading the same lesson: nothing to write
    if session.get_bind().dialect.name == "sqlite":
        session.commit()  # end the read transaction (nothing in it to write) ...
        begin_write(session)  # ... and queue for the write lock
    # The last lesson opened (where "Continue" resumes), and the course's start on the first visit.
    enrolment.last_lesson_id = lesson_id
    if enrolment.started_at is None:
        enrolment.started_at = utcnow()
    session.commit()  # release the write lock (SQLite) / the row lock (PostgreSQL) before rendering
