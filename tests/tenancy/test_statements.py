"""Core statements are held to tenant scoping by their structure (app/tenancy/statements.py), not by text."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, delete, func, insert, or_, select, text, update

import app.models
from app.accounts.models import User
from app.progress.models import Enrolment, LessonProgress
from app.tenancy import rls
from app.tenancy.statements import TENANT, TenantConnection, UnscopedStatement, check, scoped, transaction
from tests.factories import make_world

U, E, P = User.__table__, Enrolment.__table__, LessonProgress.__table__

SCOPED = {
    "filtered select": select(U.c.id).where(U.c.tenant_id == TENANT, U.c.id == 5),
    "outer join filtered in ON": select(U.c.id, E.c.id)
    .select_from(U.outerjoin(E, (E.c.tenant_id == TENANT) & (E.c.user_id == U.c.id)))
    .where(U.c.tenant_id == TENANT),
    "correlated subquery filtered": select(
        U.c.id,
        select(func.count()).where(P.c.tenant_id == TENANT, P.c.enrolment_id == E.c.id).scalar_subquery(),
    )
    .select_from(U.join(E, E.c.user_id == U.c.id))
    .where(U.c.tenant_id == TENANT, E.c.tenant_id == TENANT),
    "update": update(E).where(E.c.tenant_id == TENANT, E.c.id == 3).values(percent=5),
    "insert": insert(P).values(tenant_id=TENANT, enrolment_id=bindparam("e"), lesson_id=bindparam("l")),
    "delete": delete(P).where(P.c.tenant_id == TENANT, P.c.id == 1),
    "global table": select(app.models.Tenant.__table__.c.id),
}

# Each of these would pass a search of the SQL text for "tenant_id = :tenant".
UNSCOPED = {
    "no filter": select(U.c.id).where(U.c.id == 5),
    "filter inside an OR": select(U.c.id).where(or_(U.c.id == 5, U.c.tenant_id == TENANT)),
    "comma join, one table filtered": select(U.c.id, E.c.id).where(
        U.c.tenant_id == TENANT, E.c.user_id == U.c.id
    ),
    "subquery unfiltered": select(
        U.c.id, select(func.count()).where(P.c.enrolment_id == E.c.id).scalar_subquery()
    )
    .select_from(U.join(E, E.c.user_id == U.c.id))
    .where(U.c.tenant_id == TENANT, E.c.tenant_id == TENANT),
    "a sibling subquery's filter does not count": select(
        select(func.count()).where(P.c.tenant_id == TENANT).scalar_subquery(),
        select(func.count()).select_from(P).scalar_subquery(),
    ),
    "a literal tenant": select(U.c.id).where(U.c.tenant_id == 5),
    "not equal": select(U.c.id).where(U.c.tenant_id != TENANT),
    "update unfiltered": update(E).where(E.c.id == 3).values(percent=5),
    "update from an unfiltered subquery": update(E)
    .where(E.c.tenant_id == TENANT)
    .values(percent=select(func.count()).select_from(P).scalar_subquery()),
    "insert with a literal tenant": insert(P).values(tenant_id=5, enrolment_id=1, lesson_id=2),
    "delete unfiltered": delete(P).where(P.c.id == 1),
}


@pytest.mark.parametrize("name", list(SCOPED))
def test_scoped_statements_are_accepted(name: str) -> None:
    check(SCOPED[name])


@pytest.mark.parametrize("name", list(UNSCOPED))
def test_unscoped_statements_are_refused(name: str) -> None:
    with pytest.raises(UnscopedStatement):
        scoped(UNSCOPED[name])


def test_text_is_refused() -> None:
    with pytest.raises(UnscopedStatement):
        scoped(text("SELECT id FROM user_account WHERE tenant_id = :tenant"))  # type: ignore[arg-type]


def test_the_connection_binds_its_own_tenant_and_refuses_another(db, connection) -> None:  # type: ignore[no-untyped-def]
    world = make_world(db)
    db.commit()
    by_username = scoped(select(U.c.username).where(U.c.tenant_id == TENANT, U.c.username == bindparam("u")))
    with transaction(connection, world.haiphong.id) as sql:
        assert sql.scalar(by_username, u="learner") == "learner"
        with pytest.raises(ValueError, match="bound by TenantConnection"):
            sql.rows(by_username, u="learner", tenant=world.quangninh.id)
    everyone = scoped(select(func.count()).select_from(U).where(U.c.tenant_id == TENANT))
    counts = {}
    for tenant in (world.haiphong, world.quangninh, world.national):
        with transaction(connection, tenant.id) as sql:
            assert isinstance(sql, TenantConnection)
            counts[tenant.slug] = sql.scalar(everyone)
    rls.declare(connection, rls.context_values(None, None, cross=True))  # PostgreSQL: count every tenant's
    total = connection.execute(select(func.count()).select_from(U)).scalar()
    assert sum(counts.values()) == total and all(counts.values())
