"""Plain factory functions taking the session, and a tenant-aware test client."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy.orm import Session

from app.accounts import service as accounts
from app.accounts.models import User
from app.catalog import service as catalog
from app.catalog.files import ImportStats, import_folder
from app.catalog.models import Course
from app.catalog.storage import DiskStorage
from app.cohorts.models import Cohort
from app.core.security import hash_password
from app.tenancy import service as tenants
from app.tenancy.models import NATIONAL_SLUG, Tenant
from app.tenancy.scoping import bind_tenant, unbind_tenant

PASSWORD = "secret123"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@cache
def password_hash() -> str:
    # One argon2id hash for the whole run: hashing per user would make the suite slow.
    return hash_password(PASSWORD)


def make_tenant(db: Session, slug: str, name: str | None = None, **kwargs: Any) -> Tenant:
    existing = tenants.get_by_slug(db, slug)
    if existing is not None:
        return existing
    return tenants.create_tenant(db, slug=slug, display_name=name or slug.title(), **kwargs)


class in_tenant:
    """Bind the session to a tenant for the block, then expunge its rows and unbind."""

    def __init__(self, db: Session, tenant: Tenant) -> None:
        self.db = db
        self.tenant = tenant

    def __enter__(self) -> Session:
        self.db.flush()
        self.db.expunge_all()
        bind_tenant(self.db, self.tenant.id, national_tenant_id=tenants.national_tenant_id(self.db))
        return self.db

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.db.flush()
        self.db.expunge_all()
        unbind_tenant(self.db)


def make_user(
    db: Session,
    tenant: Tenant,
    username: str,
    *,
    roles: list[str] | None = None,
    full_name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    must_change_password: bool = False,
    **kwargs: Any,
) -> User:
    unit_id = kwargs.pop("unit_id", None)
    is_active = kwargs.pop("is_active", True)
    with in_tenant(db, tenant):
        user = accounts.create_user(
            db,
            username=username,
            full_name=full_name or username.title(),
            password=None,
            roles=roles or ["learner"],
            email=email,
            phone=phone,
            must_change_password=must_change_password,
            **kwargs,
        )
        user.password_hash = password_hash()
        user.unit_id = unit_id
        user.is_active = is_active
        db.flush()
    return user


def make_units(db: Session, tenant: Tenant, csv_text: str) -> dict[str, int]:
    """Import units from CSV text (`Mã,Tên,Loại,Mã cấp trên`) and return their ids by code."""
    from sqlalchemy import select

    from app.units import service as units
    from app.units.models import Unit

    with in_tenant(db, tenant):
        outcome = units.import_units(db, csv_text.encode(), lang="vi", dry_run=False)
        assert not outcome.errors, outcome.errors
        ids = {code: unit_id for unit_id, code in db.execute(select(Unit.id, Unit.code))}
    return ids


@dataclass
class World:
    national: Tenant
    haiphong: Tenant
    quangninh: Tenant
    users: dict[str, User] = field(default_factory=dict)


def make_world(db: Session) -> World:
    national = make_tenant(db, NATIONAL_SLUG, "Cổng quốc gia")
    haiphong = make_tenant(db, "haiphong", "Hải Phòng")
    quangninh = make_tenant(db, "quangninh", "Quảng Ninh")
    world = World(national, haiphong, quangninh)
    world.users["national_admin"] = make_user(db, national, "admin", roles=["national_admin"])
    world.users["national_trainer"] = make_user(db, national, "trainer", roles=["trainer"])
    for tenant in (haiphong, quangninh):
        world.users[f"{tenant.slug}_admin"] = make_user(db, tenant, "admin", roles=["tenant_admin"])
        world.users[f"{tenant.slug}_trainer"] = make_user(db, tenant, "trainer", roles=["trainer"])
        world.users[f"{tenant.slug}_learner"] = make_user(
            db,
            tenant,
            "learner",
            full_name="Nguyễn Văn An",
            email=f"an@{tenant.slug}.vn",
            phone="0912345678",
            target_group="civil_servant",
        )
    db.commit()
    return world


class Browser(TestClient):
    """A client on one tenant's host that can sign in by API token or by the sign-in form."""

    def __init__(self, app: Any, slug: str) -> None:
        host = "localhost" if slug == NATIONAL_SLUG else f"{slug}.localhost"
        super().__init__(app, base_url=f"http://{host}", follow_redirects=False)
        self.slug = slug
        self.token: str | None = None

    # API
    def login_api(self, username: str, password: str = PASSWORD) -> str:
        r = self.post("/api/v1/auth/token", data={"username": username, "password": password})
        assert r.status_code == 200, r.text
        self.token = r.json()["access_token"]
        return self.token

    def api(self, method: str, url: str, **kwargs: Any) -> Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return self.request(method, url, headers=headers, **kwargs)

    # Browser pages
    def csrf_from(self, url: str) -> str:
        r = self.get(url)
        match = _CSRF.search(r.text)
        assert match, f"no CSRF token on {url}: {r.status_code}"
        return match.group(1)

    def submit(
        self, page_url: str, action: str | None = None, data: dict[str, Any] | None = None, **kwargs: Any
    ) -> Response:
        """Load a page, take its CSRF token, and post a form to `action` (default: the same URL)."""
        token = self.csrf_from(page_url)
        return self.post(action or page_url, data={**(data or {}), "csrf_token": token}, **kwargs)

    def login_page(self, identifier: str, password: str = PASSWORD) -> Response:
        return self.submit("/login", data={"identifier": identifier, "password": password, "next": "/"})


# Learning ------------------------------------------------------------------------------------------

FIXTURE_COURSES = Path(__file__).parent / "fixtures" / "courses"
MAX_UPLOAD = 5 * 1024 * 1024


def import_courses(db: Session, world: World, media_dir: Path, root: Path = FIXTURE_COURSES) -> ImportStats:
    """Import course folders into the national catalog, as `onetouch courses import` does."""
    with in_tenant(db, world.national):
        stats = import_folder(db, root, DiskStorage(media_dir), max_bytes=MAX_UPLOAD)
    db.commit()
    return stats


def make_course(
    db: Session,
    tenant: Tenant,
    slug: str,
    title: str,
    *,
    summary: str = "",
    lessons: Sequence[str] = ("Bài 1", "Bài 2", "Bài 3"),
    published: bool = True,
    target_groups: Sequence[str] = (),
    optional: Sequence[str] = (),
) -> Course:
    """A course of one module with text lessons; lesson titles in `optional` are not required."""
    with in_tenant(db, tenant):
        course = catalog.create_course(
            db, title=title, slug=slug, summary=summary, target_groups=list(target_groups)
        )
        module = catalog.add_module(db, course, title="Phần 1")
        for lesson_title in lessons:
            lesson = catalog.add_lesson(db, module, title=lesson_title)
            catalog.update_lesson(
                db,
                lesson,
                title=lesson_title,
                kind="text",
                body_md=f"Nội dung **{lesson_title}**.",
                required=lesson_title not in optional,
            )
        if published:
            catalog.set_published(db, course, True)
    db.commit()
    return course


def lesson_ids(db: Session, tenant: Tenant, course_id: int) -> list[int]:
    with in_tenant(db, tenant):
        course = catalog.get_course_by_id(db, course_id)
        ids = [lesson.id for lesson in catalog.course_lessons(course)]
    return ids


def make_cohort(db: Session, tenant: Tenant, course: Course, code: str, **kwargs: Any) -> Cohort:
    with in_tenant(db, tenant):
        cohort = Cohort(course_id=course.id, code=code, title=kwargs.pop("title", code), **kwargs)
        db.add(cohort)
        db.flush()
    db.commit()
    return cohort


# Quizzes and certificates ------------------------------------------------------------------------------

QUIZ_YAML = """\
title: "Kiểm tra cuối khóa"
pass_percent: 75
time_limit_minutes: 10
max_attempts: 2
shuffle_options: true
show_review: true
questions:
  - id: q1
    kind: single
    text: "Mật khẩu nào mạnh nhất?"
    options:
      - text: "Tr0ng-Suot!Bien-Xanh"
        correct: true
      - text: "123456"
      - text: "matkhau"
    explanation: "GIAI-THICH-Q1: dài và khó đoán."
  - id: q2
    kind: multiple
    text: "Dấu hiệu nào cho thấy tin nhắn lừa đảo?"
    options:
      - text: "Đường link lạ"
        correct: true
      - text: "Giục chuyển tiền gấp"
        correct: true
      - text: "Gửi từ tổng đài chính thức đã biết"
  - id: q3
    kind: true_false
    text: "Công an gọi điện yêu cầu chuyển tiền là bình thường."
    answer: false
  - id: q4
    kind: short
    text: "Ứng dụng định danh điện tử quốc gia tên là gì?"
    answers: ["VNeID"]
"""

# The right answers of QUIZ_YAML (option ids are letters in file order, whatever the shuffle).
RIGHT_ANSWERS: dict[str, Any] = {"q1": ["a"], "q2": ["a", "b"], "q3": ["false"], "q4": "vneid"}
WRONG_ANSWERS: dict[str, Any] = {"q1": ["b"], "q2": ["a"], "q3": ["true"], "q4": "CCCD"}


def write_quiz_course(
    root: Path, slug: str = "an-toan-so", *, quiz_yaml: str = QUIZ_YAML, certificate: bool = True
) -> Path:
    """A course folder with a text lesson and a quiz lesson whose quiz must be passed."""
    folder = root / slug
    (folder / "lessons").mkdir(parents=True, exist_ok=True)
    (folder / "quizzes").mkdir(exist_ok=True)
    (folder / "course.yaml").write_text(
        f"slug: {slug}\n"
        'title: "An toàn số cho mọi người"\n'
        "completion:\n  lessons: required\n  quizzes: [kiem-tra]\n"
        f"certificate: {'true' if certificate else 'false'}\n"
        'modules:\n  - slug: m1\n    title: "Phần 1"\n    lessons: [01-bai-hoc, 02-kiem-tra]\n',
        encoding="utf-8",
    )
    (folder / "lessons" / "01-bai-hoc.md").write_text(
        '---\ntitle: "Bài học"\n---\n\nNội dung bài học.\n', encoding="utf-8"
    )
    (folder / "lessons" / "02-kiem-tra.md").write_text(
        '---\ntitle: "Bài kiểm tra"\nkind: quiz\nquiz: kiem-tra\n---\n\nLàm bài kiểm tra.\n', encoding="utf-8"
    )
    (folder / "quizzes" / "kiem-tra.yaml").write_text(quiz_yaml, encoding="utf-8")
    return folder


@dataclass
class QuizCourse:
    slug: str
    course_id: int
    quiz_id: int
    text_lesson_id: int
    quiz_lesson_id: int


def make_quiz_course(db: Session, world: World, root: Path, media_dir: Path, **kwargs: Any) -> QuizCourse:
    """Import a `write_quiz_course` folder into the national catalog."""
    from sqlalchemy import select

    from app.quizzes.models import Quiz

    folder = write_quiz_course(root, **kwargs)
    import_courses(db, world, media_dir, root=folder)
    with in_tenant(db, world.national):
        course = catalog.get_course(db, folder.name)
        lessons = catalog.course_lessons(course)
        quiz_id = db.scalar(select(Quiz.id).where(Quiz.course_id == course.id))
        assert quiz_id is not None
        result = QuizCourse(folder.name, course.id, quiz_id, lessons[0].id, lessons[1].id)
    return result


def learner_client(app: Any, slug: str = "haiphong", username: str = "learner") -> Browser:
    """A learner signed in by API token and by the browser form."""
    client = Browser(app, slug)
    client.login_api(username)
    client.login_page(username)
    return client
