"""Concurrent completion of the same lesson, each request with its own session on a committed database."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from app.accounts import service as accounts
from app.catalog import service as catalog
from app.core.db import begin_write, make_engine, make_session_factory
from app.core.migrate import upgrade
from app.progress import service as progress
from app.progress.models import Enrolment, LessonProgress
from app.tenancy import service as tenants
from app.tenancy.models import NATIONAL_SLUG
from app.tenancy.scoping import bind_tenant, unbind_tenant
from tests.databases import fresh_database

THREADS = 8


@pytest.fixture()
def committed_db() -> Iterator[str]:
    """A fresh, migrated database whose commits are real (the usual test database is rolled back)."""
    with fresh_database() as url:
        yield url


def test_concurrent_completion_counts_once(committed_db) -> None:
    upgrade(committed_db)
    engine = make_engine(committed_db)
    factory = make_session_factory(engine)
    with factory() as s:
        national = tenants.create_tenant(s, slug=NATIONAL_SLUG, display_name="Quốc gia")
        province = tenants.create_tenant(s, slug="haiphong", display_name="Hải Phòng")
        national_id, province_id = national.id, province.id
        s.commit()
        bind_tenant(s, national_id, national_tenant_id=national_id)
        course = catalog.create_course(s, title="Khóa", slug="khoa")
        module = catalog.add_module(s, course, title="Phần 1")
        lessons = [catalog.add_lesson(s, module, title=t) for t in ("A", "B")]
        catalog.set_published(s, course, True)
        s.commit()
        course_id, lesson_id = course.id, lessons[0].id
        s.expunge_all()
        unbind_tenant(s)
        bind_tenant(s, province_id, national_tenant_id=national_id)
        user = accounts.create_user(s, username="hv", full_name="Học viên", password=None)
        enrolment, _ = progress.enrol(s, user, catalog.get_course_by_id(s, course_id))
        s.commit()
        enrolment_id = enrolment.id

    barrier = threading.Barrier(THREADS)
    counted: list[bool] = []
    errors: list[BaseException] = []

    def complete() -> None:
        try:
            with factory() as s:
                barrier.wait(timeout=10)
                begin_write(s)  # what the app does for every POST
                bind_tenant(s, province_id, national_tenant_id=national_id)
                enrolment = s.get(Enrolment, enrolment_id)
                lesson = catalog.get_lesson(s, lesson_id)
                assert enrolment is not None
                counted.append(progress.complete_lesson(s, enrolment, lesson))
                s.commit()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=complete) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert sorted(counted) == [False] * (THREADS - 1) + [True]
    with factory() as s:
        bind_tenant(s, province_id, national_tenant_id=national_id)
        enrolment = s.get(Enrolment, enrolment_id)
        assert enrolment is not None
        assert (enrolment.lessons_completed, enrolment.lessons_total, enrolment.percent) == (1, 2, 50)
        assert s.scalar(select(func.count()).select_from(LessonProgress)) == 1
    engine.dispose()
