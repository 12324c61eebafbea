"""Tenant scoping is enforced by the session, not remembered by each query."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from app.accounts.models import User
from app.audit.models import AuditEvent
from app.tenancy.scoping import TenantScopeError, bind_tenant, cross_tenant
from tests.factories import make_user


def test_query_without_tenant_filter_returns_only_bound_tenant_rows(world, session_factory) -> None:
    with session_factory() as s:
        bind_tenant(s, world.haiphong.id)
        # No tenant filter written here: the session adds it.
        users = s.scalars(select(User)).all()
        assert users and {u.tenant_id for u in users} == {world.haiphong.id}
        # Aggregates and subqueries are scoped too.
        assert s.scalar(select(func.count()).select_from(User)) == len(users)
        assert s.scalar(select(func.count()).select_from(select(User).subquery())) == len(users)
        # Another tenant's row by primary key is invisible.
        other_id = world.users["quangninh_learner"].id
        assert s.get(User, other_id) is None


def test_scoping_alternates_correctly_between_sessions(world, session_factory) -> None:
    # Compiled statements are cached: the tenant id must be a parameter, not baked into the cache.
    for _ in range(3):
        for tenant in (world.haiphong, world.quangninh):
            with session_factory() as s:
                bind_tenant(s, tenant.id)
                ids = {u.tenant_id for u in s.scalars(select(User))}
                assert ids == {tenant.id}


def test_bulk_update_cannot_touch_other_tenant(world, session_factory, db) -> None:
    with session_factory() as s:
        bind_tenant(s, world.haiphong.id)
        s.execute(update(User).values(position="Chuyên viên"))
        s.commit()
    with cross_tenant(db):
        positions = {
            u.tenant_id: u.position for u in db.scalars(select(User).where(User.username == "learner"))
        }
    assert positions[world.haiphong.id] == "Chuyên viên"
    assert positions[world.quangninh.id] is None


def test_unbound_session_refuses_tenant_owned_queries(world, session_factory) -> None:
    with session_factory() as s, pytest.raises(TenantScopeError):
        s.scalars(select(User)).all()
    with session_factory() as s, cross_tenant(s):
        assert len(s.scalars(select(User)).all()) >= 6


def test_new_rows_get_bound_tenant_and_foreign_rows_are_refused(world, session_factory) -> None:
    with session_factory() as s:
        bind_tenant(s, world.haiphong.id)
        event = AuditEvent(action="test.event")
        s.add(event)
        s.flush()
        assert event.tenant_id == world.haiphong.id
        s.add(AuditEvent(action="test.intrusion", tenant_id=world.quangninh.id))
        with pytest.raises(TenantScopeError):
            s.flush()


def test_rebinding_a_session_holding_rows_is_refused(world, session_factory) -> None:
    with session_factory() as s:
        bind_tenant(s, world.haiphong.id)
        held = s.scalars(select(User)).first()
        assert held is not None
        with pytest.raises(TenantScopeError):
            bind_tenant(s, world.quangninh.id)


def test_same_username_may_exist_in_two_tenants(world, db) -> None:
    a = make_user(db, world.haiphong, "tuan")
    b = make_user(db, world.quangninh, "tuan")
    assert a.id != b.id
