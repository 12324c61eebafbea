"""Demo data: the national portal and three provinces, each with an admin, a trainer and learners.

Also the course folders of `courses/` in the national catalog and a demo cohort in Hải Phòng.

Idempotent: running it again changes nothing. Demo passwords are for a local demo only; `seed` refuses
to run with ENV=production.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts import service as accounts
from app.accounts.models import User
from app.catalog.files import import_folder
from app.catalog.models import Course
from app.catalog.storage import DiskStorage
from app.cohorts.models import Cohort
from app.core.settings import Settings
from app.tenancy import service as tenants
from app.tenancy.models import NATIONAL_SLUG, Tenant
from app.tenancy.scoping import bind_tenant, unbind_tenant

DEMO_PASSWORD = "demo1234"  # noqa: S105 - documented demo credential, refused in production


@dataclass(frozen=True)
class DemoTenant:
    slug: str
    name: str
    colour: str
    self_registration: bool = False


DEMO_TENANTS = (
    DemoTenant(NATIONAL_SLUG, "Cổng đào tạo quốc gia", "#a4000f"),
    DemoTenant("haiphong", "Hải Phòng", "#0b5394", self_registration=True),
    DemoTenant("quangninh", "Quảng Ninh", "#00695c"),
    DemoTenant("quangngai", "Quảng Ngãi", "#6a1b9a"),
)

# (username, full name, roles, target group, phone suffix)
DEMO_USERS_NATIONAL = (
    ("admin", "Quản trị Quốc gia", ["national_admin"], None),
    ("trainer", "Giảng viên Quốc gia", ["trainer"], None),
)
DEMO_USERS_PROVINCE = (
    ("admin", "Quản trị Tỉnh", ["tenant_admin"], None),
    ("trainer", "Trần Thị Giảng", ["trainer"], "civil_servant"),
    ("hocvien1", "Nguyễn Văn An", ["learner"], "civil_servant"),
    ("hocvien2", "Lê Thị Bình", ["learner"], "commune_leader"),
    ("hocvien3", "Đặng Minh Châu", ["learner"], "digital_team_member"),
)


DEMO_COURSE = "cds-co-ban"
DEMO_COHORT = ("haiphong", "HP-CDS-01", "Đợt 01 – CĐS cơ bản")


def seed_demo(session: Session, *, settings: Settings | None = None) -> dict[str, int]:
    """Create whatever of the demo data is missing; returns how many rows were created or updated.

    With settings, also imports the course folders (`settings.courses_dir`) into the national catalog and
    opens a self-enrolment cohort of the example course in Hải Phòng.
    """
    created = {"tenants": 0, "users": 0, "lessons": 0, "cohorts": 0}
    national_id: int | None = None
    for index, demo in enumerate(DEMO_TENANTS):
        tenant = tenants.get_by_slug(session, demo.slug)
        if tenant is None:
            tenant = tenants.create_tenant(
                session,
                slug=demo.slug,
                display_name=demo.name,
                colour=demo.colour,
                self_registration=demo.self_registration,
            )
            created["tenants"] += 1
        if demo.slug == NATIONAL_SLUG:
            national_id = tenant.id
        users = DEMO_USERS_NATIONAL if demo.slug == NATIONAL_SLUG else DEMO_USERS_PROVINCE
        created["users"] += _seed_users(session, tenant, national_id, users, index)
    if settings is not None and national_id is not None:
        created["lessons"] = _seed_courses(session, settings, national_id)
        created["cohorts"] = _seed_cohort(session, national_id)
    return created


def _seed_courses(session: Session, settings: Settings, national_id: int) -> int:
    if not settings.courses_dir.is_dir():
        return 0
    bind_tenant(session, national_id, national_tenant_id=national_id)
    stats = import_folder(
        session,
        settings.courses_dir,
        DiskStorage(settings.media_dir),
        max_bytes=settings.media_max_upload_mb * 1024 * 1024,
    )
    session.flush()
    session.expunge_all()
    unbind_tenant(session)
    return stats.lessons_created + stats.lessons_updated


def _seed_cohort(session: Session, national_id: int) -> int:
    slug, code, title = DEMO_COHORT
    tenant = tenants.get_by_slug(session, slug)
    if tenant is None:
        return 0
    session.expunge_all()
    bind_tenant(session, tenant.id, national_tenant_id=national_id)
    made = 0
    course = session.scalars(select(Course).where(Course.slug == DEMO_COURSE)).first()
    exists = session.scalar(select(Cohort.id).where(Cohort.code == code))
    if course is not None and exists is None:
        session.add(Cohort(course_id=course.id, code=code, title=title, self_enrolment=True))
        made = 1
    session.flush()
    session.expunge_all()
    unbind_tenant(session)
    return made


def _seed_users(session: Session, tenant: Tenant, national_id: int | None, users: tuple, index: int) -> int:
    # Each tenant gets its own session binding: rows of one tenant never share a scoped session with another.
    session.flush()
    session.expunge_all()
    bind_tenant(session, tenant.id, national_tenant_id=national_id)
    made = 0
    for n, (username, full_name, roles, group) in enumerate(users):
        if session.scalars(select(User).where(User.username == username)).first() is not None:
            continue
        accounts.create_user(
            session,
            username=username,
            full_name=full_name,
            password=DEMO_PASSWORD,
            roles=roles,
            email=f"{username}@{tenant.slug}.example.vn",
            phone=f"09{index:02d}{n:06d}",
            target_group=group,
        )
        made += 1
    session.flush()
    session.expunge_all()
    unbind_tenant(session)
    return made
