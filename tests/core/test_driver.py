"""The driver mechanism (app/core/driver.py) answers what SQLAlchemy answers: same rows, same values, same
errors — on SQLite's driver here, on asyncpg in tests/progress/test_runner.py."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError

import app.models  # noqa: F401
from app.accounts.models import User
from app.core import driver
from app.progress.models import LessonProgress
from app.tenancy import rls
from app.tenancy.statements import table_of
from tests.factories import make_world

USERS = table_of(User)
PROGRESS = table_of(LessonProgress)


def test_rows_and_values_match_sqlalchemy(db, connection) -> None:  # type: ignore[no-untyped-def]
    if not driver.applies(connection):
        pytest.skip(
            "the driver mechanism covers SQLite's driver and asyncpg, not psycopg (the test connection)"
        )
    world = make_world(db)
    db.commit()
    stmt = select(USERS.c.id, USERS.c.roles, USERS.c.is_active, USERS.c.created_at).where(
        USERS.c.tenant_id == bindparam("t")
    )
    rls.declare(connection, rls.context_values(None, None, cross=True))
    expected = connection.execute(stmt, {"t": world.haiphong.id}).all()
    got = driver.rows(connection, stmt, {"t": world.haiphong.id})
    assert [tuple(r) for r in got] == [tuple(r) for r in expected] and expected
    assert isinstance(got[0].roles, list) and isinstance(got[0].created_at, dt.datetime)
    assert got[0].created_at.tzinfo is not None  # the UTC type's processor ran
    assert driver.first(connection, stmt, {"t": -1}) is None


def test_errors_are_sqlalchemys(db, connection) -> None:  # type: ignore[no-untyped-def]
    if not driver.applies(connection):
        pytest.skip(
            "the driver mechanism covers SQLite's driver and asyncpg, not psycopg (the test connection)"
        )
    stmt = insert(PROGRESS).values(
        tenant_id=bindparam("t"),
        enrolment_id=bindparam("e"),
        lesson_id=bindparam("l"),
        completed_at=bindparam("at"),
    )
    with (
        pytest.raises(IntegrityError),
        connection.begin_nested(),
    ):  # no such enrolment: a foreign key refuses it
        driver.rowcount(connection, stmt, {"t": 1, "e": 999_999, "l": 999_999, "at": dt.datetime.now(dt.UTC)})
