"""A small hand-countable Hải Phòng: a three-level unit tree, two courses, a cohort, learners per level."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.catalog.models import Course, Lesson
from app.cohorts.models import Cohort
from app.progress import service as progress
from app.progress.models import Enrolment
from app.reports.models import ReportCounter, ReportDaily, ReportLearner, ReportTenant, ReportUnit
from app.tenancy.models import Tenant
from app.tenancy.scoping import cross_tenant
from tests.factories import World, in_tenant, make_cohort, make_course, make_units, make_user

UNITS = """Mã,Tên,Loại,Mã cấp trên
Q1,Quận Hồng Bàng,Quận/huyện,
X1,Phường Hoàng Văn Thụ,Xã/phường/thị trấn,Q1
T1,Tổ dân phố 1,Thôn/tổ dân phố,X1
T2,Tổ dân phố 2,Thôn/tổ dân phố,X1
CNS1,Tổ CNSCĐ Hoàng Văn Thụ,Tổ CNSCĐ,X1
X2,Phường Minh Khai,Xã/phường/thị trấn,Q1
Q2,=HYPERLINK("http://evil.example"),Quận/huyện,
"""

# 2026-03-10 10:00 in Vietnam
DAY1 = dt.datetime(2026, 3, 10, 3, 0, tzinfo=dt.UTC)
DAY2 = dt.datetime(2026, 3, 12, 3, 0, tzinfo=dt.UTC)


@dataclass
class Province:
    world: World
    units: dict[str, int]
    course: Course
    other: Course
    cohort: Cohort
    users: dict[str, User] = field(default_factory=dict)


def study(
    db: Session,
    tenant: Tenant,
    username: str,
    course: Course,
    *,
    lessons: int,
    cohort: Cohort | None = None,
    now: dt.datetime = DAY1,
) -> None:
    """Enrol a learner (in a cohort or alone) and complete the first `lessons` lessons, via the services."""
    with in_tenant(db, tenant):
        user = db.scalars(select(User).where(User.username == username)).one()
        c = db.get(Course, course.id)
        assert c is not None
        co = db.get(Cohort, cohort.id) if cohort else None
        enrolment, _ = progress.enrol(db, user, c, cohort=co, self_service=False)
        ids = list(db.scalars(select(Lesson).where(Lesson.course_id == course.id).order_by(Lesson.position)))
        for lesson in ids[:lessons]:
            progress.complete_lesson(db, enrolment, lesson, now=now)
    db.commit()


@pytest.fixture()
def province(world: World, db: Session) -> Province:
    units = make_units(db, world.haiphong, UNITS)
    course = make_course(db, world.national, "cds", "Chuyển đổi số cơ bản")  # 3 lessons
    other = make_course(db, world.haiphong, "attt", "An toàn thông tin", lessons=("Một", "Hai"))
    trainer = world.users["haiphong_trainer"]
    cohort = make_cohort(
        db, world.haiphong, course, "HP-01", closes_on=dt.date(2026, 3, 11), created_by_id=trainer.id
    )
    p = Province(world, units, course, other, cohort)
    people = {
        # username: (unit code, group)
        "an": ("T1", "civil_servant"),
        "binh": ("T1", "civil_servant"),
        "chau": ("T2", "digital_team_member"),
        "dung": ("CNS1", "digital_team_member"),
        "em": ("X2", "commune_leader"),
        "giang": (None, None),
    }
    for username, (_code, group) in people.items():
        p.users[username] = make_user(
            db,
            world.haiphong,
            username,
            target_group=group,
            full_name="=cmd|' /C calc'!A0" if username == "giang" else None,
        )
    with in_tenant(db, world.haiphong):
        for username, (code, _group) in people.items():
            user = db.get(User, p.users[username].id)
            assert user is not None
            user.unit_id = units[code] if code else None
    db.commit()
    # an: cohort, completes on day 1 (on time). binh: cohort, completes on day 2 (late: closed on day 1 + 0).
    study(db, world.haiphong, "an", course, lessons=3, cohort=cohort, now=DAY1)
    study(db, world.haiphong, "binh", course, lessons=3, cohort=cohort, now=DAY2)
    # chau: cohort, started only. dung: alone, completes; also completes the other course.
    study(db, world.haiphong, "chau", course, lessons=1, cohort=cohort, now=DAY1)
    study(db, world.haiphong, "dung", course, lessons=3, now=DAY1)
    study(db, world.haiphong, "dung", other, lessons=2, now=DAY2)
    # em: alone, enrolled only. giang (no unit, no group): alone, completes.
    study(db, world.haiphong, "em", course, lessons=0, now=DAY1)
    study(db, world.haiphong, "giang", course, lessons=3, now=DAY2)
    return p


_KEYS = ("tenant_id", "course_id", "cohort_id", "unit_id", "user_id")


def counter_rows(db: Session, tenant_id: int) -> dict[str, set[tuple]]:
    """Every non-zero row of the derived tables, comparable between incremental and rebuilt counters."""
    out: dict[str, set[tuple]] = {}
    with cross_tenant(db):
        for model in (ReportCounter, ReportDaily, ReportLearner, ReportTenant, ReportUnit):
            table = model.__table__
            cols = [c for c in table.c if c.name != "id"]
            rows = set()
            for row in db.execute(select(*cols).where(table.c.tenant_id == tenant_id)):
                values = tuple(round(v, 6) if isinstance(v, float) else v for v in row)
                measures = [
                    v
                    for c, v in zip(cols, values, strict=True)
                    if c.name not in _KEYS and isinstance(v, (int, float))
                ]
                if any(measures):
                    rows.add(tuple(str(v) for v in values))
            out[model.__tablename__] = rows
    return out


def enrolment_count(db: Session, tenant_id: int) -> int:
    with cross_tenant(db):
        return len(list(db.scalars(select(Enrolment.id).where(Enrolment.tenant_id == tenant_id))))
