"""Cohorts: create them, enrol learners by username, and read the roster with each learner's progress."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from app.accounts import service as accounts_service
from app.accounts.constants import ADMIN_ROLES, TRAINER
from app.accounts.models import User
from app.catalog import service as catalog_service
from app.catalog.models import Course
from app.cohorts.models import Cohort, CohortTrainer
from app.core.collation import person_key
from app.core.db import utcnow
from app.core.errors import N_, Conflict, Invalid, NotFound
from app.core.text import fold, nfc
from app.progress import service as progress_service
from app.progress.models import Enrolment
from app.reports import counters as report_counters
from app.units import service as units_service
from app.units.models import Unit

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


# Who runs which cohort: the one rule for pages, API and reports ----------------------------------------


def managed_cohort_ids(session: Session, user: User) -> tuple[int, ...] | None:
    """The cohorts a user may see and change: None means every cohort of the portal (its administrators);
    a trainer has those they created and those they were added to (`add_trainer`); anyone else none."""
    if user.has_role(*ADMIN_ROLES):
        return None
    if not user.has_role(TRAINER):
        return ()
    created = select(Cohort.id).where(Cohort.created_by_id == user.id)
    added = select(CohortTrainer.cohort_id).where(CohortTrainer.user_id == user.id)
    return tuple(sorted(set(session.scalars(created)) | set(session.scalars(added))))


def get_managed_cohort(session: Session, user: User, cohort_id: int) -> Cohort:
    """A cohort the user may see and change; another trainer's is "not found", as another portal's is."""
    managed = managed_cohort_ids(session, user)
    if managed is not None and cohort_id not in managed:
        raise NotFound(N_("Cohort not found."), code="cohort_not_found")
    return get_cohort(session, cohort_id)


def add_trainer(session: Session, cohort: Cohort, user: User) -> None:
    """Let a trainer of the portal run a cohort someone else created (and read its report)."""
    if not user.has_role(TRAINER, *ADMIN_ROLES):
        raise Invalid(N_("Only trainers can run a cohort."), code="not_trainer")
    exists = session.scalar(
        select(CohortTrainer.id).where(CohortTrainer.cohort_id == cohort.id, CohortTrainer.user_id == user.id)
    )
    if exists is None:
        session.add(CohortTrainer(cohort_id=cohort.id, user_id=user.id))
        session.flush()


def list_cohorts(
    session: Session, user: User, *, limit: int = 50, offset: int = 0
) -> tuple[list[Cohort], int]:
    """The cohorts the user may see (`managed_cohort_ids`), newest first."""
    stmt = select(Cohort)
    managed = managed_cohort_ids(session, user)
    if managed is not None:
        stmt = stmt.where(Cohort.id.in_(managed or (-1,)))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.options(selectinload(Cohort.course))
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
    found = accounts_service.ids_by_username(session, wanted, active_only=True)
    report.unknown_usernames = [typed for key, typed in wanted.items() if key not in found]
    bulk = enrol_user_ids(session, cohort, found.values())
    report.enrolled, report.already_enrolled = bulk.enrolled, bulk.already_enrolled
    return report


def enrol_user_ids(session: Session, cohort: Cohort, user_ids: Iterable[int]) -> EnrolmentReport:
    """Enrol many accounts of this tenant at once (cohort rosters, units, spreadsheet imports).

    Set-based: one query per few thousand learners finds existing enrolments; a learner enrolled in the
    course on their own joins the cohort; one already in a cohort of this course stays where they are. New
    enrolments go in as one bulk INSERT (10,000 ORM objects would cost seconds), so they are stamped with the
    tenant here and counted for the reports explicitly (the reports' listener sees only ORM flushes).
    """
    report = EnrolmentReport()
    ids = sorted(set(user_ids))
    course = session.get(Course, cohort.course_id)
    if course is None:  # the course row is shared read: never missing while the cohort exists
        raise NotFound(N_("Course not found."), code="course_not_found")
    existing: dict[int, Enrolment] = {}
    for start in range(0, len(ids), accounts_service.IN_LIST_CHUNK):
        chunk = ids[start : start + accounts_service.IN_LIST_CHUNK]
        existing.update(
            (e.user_id, e)
            for e in session.scalars(
                select(Enrolment).where(Enrolment.course_id == course.id, Enrolment.user_id.in_(chunk))
            )
        )
    new: list[int] = []
    for user_id in ids:
        enrolment = existing.get(user_id)
        if enrolment is None:
            new.append(user_id)
        elif enrolment.cohort_id is None:
            enrolment.cohort_id = cohort.id
            report.enrolled += 1
        else:
            report.already_enrolled += 1
    session.flush()
    if not new:
        return report
    tenant_id = cohort.tenant_id
    now = utcnow()
    rows = [
        {
            "tenant_id": tenant_id,
            "user_id": user_id,
            "course_id": course.id,
            "cohort_id": cohort.id,
            "lessons_total": course.required_lessons,
            "enrolled_at": now,
        }
        for user_id in new
    ]
    try:
        with session.begin_nested():
            new_ids = list(session.scalars(insert(Enrolment).returning(Enrolment.id), rows))
        report_counters.count_new_enrolments(session, tenant_id, new_ids)
        report.enrolled += len(new_ids)
    except IntegrityError:
        # Someone enrolled one of them meanwhile: fall back to the one-by-one path, which tolerates that.
        for user_id in new:
            user = session.get(User, user_id)
            if user is None:
                continue
            _, created = progress_service.enrol(session, user, course, cohort=cohort, self_service=False)
            report.enrolled += int(created)
            report.already_enrolled += int(not created)
    session.flush()
    return report


def enrol_unit(
    session: Session, cohort: Cohort, unit_id: int, *, include_subunits: bool = True
) -> EnrolmentReport:
    """Enrol every active account of a unit (and, by default, of the units below it) in the cohort."""
    unit = units_service.get_unit(session, unit_id)
    stmt = select(User.id).where(User.is_active)
    if include_subunits:
        stmt = stmt.join(Unit, Unit.id == User.unit_id).where(Unit.path.startswith(unit.path))
    else:
        stmt = stmt.where(User.unit_id == unit.id)
    return enrol_user_ids(session, cohort, session.scalars(stmt))


def cohort_key(value: str) -> str:
    """How a spreadsheet cell names a cohort: its code or its title, without regard to case or accents."""
    return fold(nfc(value)).replace(" ", "")


def find_by_code_or_title(session: Session, values: Iterable[str]) -> dict[str, Cohort]:
    """Cohorts of this tenant named by code or by title (a title two cohorts share names neither)."""
    wanted = {cohort_key(v) for v in values if v and v.strip()}
    if not wanted:
        return {}
    found: dict[str, Cohort] = {}
    shared_titles: set[str] = set()
    for cohort in session.scalars(select(Cohort).order_by(Cohort.id)):
        title = cohort_key(cohort.title)
        if title in wanted:
            if title in found and found[title].code != cohort.code:
                shared_titles.add(title)
            found.setdefault(title, cohort)
    for title in shared_titles:
        del found[title]
    for cohort in session.scalars(select(Cohort).where(func.lower(Cohort.code).in_(sorted(wanted)))):
        found[cohort_key(cohort.code)] = cohort  # a code wins over a title
    return found


def roster(session: Session, cohort: Cohort) -> list[tuple[User, Enrolment]]:
    rows = session.execute(
        select(User, Enrolment)
        .join(Enrolment, Enrolment.user_id == User.id)
        .where(Enrolment.cohort_id == cohort.id)
        .order_by(User.id)
    )
    # Vietnamese order (given name first), which SQL collations on SQLite and PostgreSQL cannot agree on.
    return sorted(((u, e) for u, e in rows), key=lambda row: person_key(row[0].full_name))
