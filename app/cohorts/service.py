"""Cohorts: create them, enrol learners by username, and read the roster with each learner's progress."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from app.accounts.models import User
from app.catalog import service as catalog_service
from app.catalog.models import Course
from app.cohorts.models import Cohort
from app.core.errors import N_, Conflict, Invalid, NotFound
from app.core.text import fold, nfc
from app.progress import service as progress_service
from app.progress.models import Enrolment

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$")


@dataclass
class EnrolmentReport:
    enrolled: int = 0
    already_enrolled: int = 0
    unknown_usernames: list[str] = field(default_factory=list)


def clean_code(value: str) -> str:
    code = nfc(value or "")
    if not _CODE.match(code):
        raise Invalid(
            N_("A cohort code has up to 50 letters without accents, digits, dots, dashes or underscores."),
            code="code",
        )
    return code


def create_cohort(
    session: Session,
    user: User,
    *,
    course_slug: str,
    code: str,
    title: str,
    opens_on: dt.date | None = None,
    closes_on: dt.date | None = None,
    self_enrolment: bool = False,
) -> Cohort:
    course = catalog_service.get_course(session, course_slug, user, include_drafts=True)
    code = clean_code(code)
    title = catalog_service.clean_title(title)
    if opens_on and closes_on and closes_on < opens_on:
        raise Invalid(N_("The cohort cannot close before it opens."), code="dates")
    if session.scalar(select(Cohort.id).where(Cohort.code == code)) is not None:
        raise Conflict(N_("A cohort with this code already exists."), code="code_taken")
    cohort = Cohort(
        course_id=course.id,
        code=code,
        title=title,
        opens_on=opens_on,
        closes_on=closes_on,
        self_enrolment=self_enrolment,
        created_by_id=user.id,
    )
    try:
        with session.begin_nested():
            session.add(cohort)
    except IntegrityError as exc:
        raise Conflict(N_("A cohort with this code already exists."), code="code_taken") from exc
    return cohort


def get_cohort(session: Session, cohort_id: int) -> Cohort:
    cohort = session.scalars(
        select(Cohort).where(Cohort.id == cohort_id).options(selectinload(Cohort.course))
    ).first()
    if cohort is None:
        raise NotFound(N_("Cohort not found."), code="cohort_not_found")
    return cohort


def list_cohorts(session: Session, *, limit: int = 50, offset: int = 0) -> tuple[list[Cohort], int]:
    total = session.scalar(select(func.count()).select_from(Cohort)) or 0
    rows = session.scalars(
        select(Cohort)
        .options(selectinload(Cohort.course))
        .order_by(Cohort.created_at.desc(), Cohort.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows), total


def open_cohorts(session: Session, course: Course) -> list[Cohort]:
    """Cohorts of this course a learner may join by themselves today."""
    today = progress_service.local_today()
    rows = session.scalars(
        select(Cohort).where(Cohort.course_id == course.id, Cohort.self_enrolment).order_by(Cohort.code)
    )
    return [c for c in rows if c.is_open_on(today)]


def enrol_usernames(session: Session, cohort: Cohort, usernames: Iterable[str]) -> EnrolmentReport:
    """Enrol this tenant's accounts by username; names that match no account are reported, not guessed."""
    report = EnrolmentReport()
    wanted: dict[str, str] = {}
    for raw in usernames:
        typed = nfc(raw)
        if typed:
            wanted.setdefault(fold(typed).replace(" ", ""), typed)
    if not wanted:
        raise Invalid(N_("List at least one username."), code="usernames")
    users = {u.username: u for u in session.scalars(select(User).where(User.username.in_(list(wanted))))}
    course = session.get(Course, cohort.course_id)
    if course is None:  # the course row is shared read: never missing while the cohort exists
        raise NotFound(N_("Course not found."), code="course_not_found")
    for key, typed in wanted.items():
        user = users.get(key)
        if user is None or not user.is_active:
            report.unknown_usernames.append(typed)
            continue
        _, created = progress_service.enrol(session, user, course, cohort=cohort, self_service=False)
        if created:
            report.enrolled += 1
        else:
            report.already_enrolled += 1
    return report


def roster(session: Session, cohort: Cohort) -> list[tuple[User, Enrolment]]:
    rows = session.execute(
        select(User, Enrolment)
        .join(Enrolment, Enrolment.user_id == User.id)
        .where(Enrolment.cohort_id == cohort.id)
        .order_by(User.name_folded, User.id)
    )
    return [(u, e) for u, e in rows]
