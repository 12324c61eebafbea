"""Shared-read scoping: national course rows are readable from every province, never writable there."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from app.accounts.models import User
from app.catalog.models import Course, Lesson
from app.tenancy.scoping import TenantScopeError, bind_tenant, cross_tenant
from tests.factories import make_course


def test_national_rows_are_read_only_from_a_province(world, db, session_factory) -> None:
    make_course(db, world.national, "cds", "Chuyển đổi số")
    make_course(db, world.quangninh, "qn", "Quảng Ninh")
    with session_factory() as s:
        bind_tenant(s, world.haiphong.id, national_tenant_id=world.national.id)
        assert {c.slug for c in s.scalars(select(Course))} == {"cds"}
        assert len(s.scalars(select(Lesson)).all()) == 3
        # Users are not shared: interleaving shared and tenant-only queries keeps each to its own rule.
        assert {u.tenant_id for u in s.scalars(select(User))} == {world.haiphong.id}
        assert {c.slug for c in s.scalars(select(Course))} == {"cds"}
        # A bulk update from the province cannot reach national rows.
        s.execute(update(Course).values(title="Bị đổi"))
        s.flush()
        course = s.scalars(select(Course)).one()
        s.refresh(course)
        assert course.title == "Chuyển đổi số"
        course.title = "Bị đổi"
        with pytest.raises(TenantScopeError):
            s.flush()
        s.rollback()
    with cross_tenant(db):
        assert {c.title for c in db.scalars(select(Course))} == {"Chuyển đổi số", "Quảng Ninh"}
