"""Row-level security on PostgreSQL (app/tenancy/rls.py): raw SQL that forgets its tenant filter still sees
and writes only the tenant its transaction declared.

PostgreSQL only: SQLite has no such feature (scoping in the application is the guard there). A superuser
ignores row-level security, so where the suite connects as one the checks run as an ordinary role of their
own, made and dropped inside the test's transaction.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

import app.models  # noqa: F401
from app.core.db import Base
from app.tenancy import rls
from tests.factories import World, in_tenant, make_course, make_world

pytestmark = pytest.mark.usefixtures("postgresql_only")


@pytest.fixture()
def postgresql_only(connection: Connection) -> None:
    if connection.dialect.name != "postgresql":
        pytest.skip("row-level security is a PostgreSQL feature; SQLite relies on scoping in the application")


@pytest.fixture()
def ordinary(connection: Connection) -> Iterator[Connection]:
    """The test's connection as a role that row-level security applies to."""
    superuser = connection.execute(
        text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    ).scalar()
    if superuser:
        connection.execute(text("CREATE ROLE onetouch_rls_probe NOLOGIN"))
        connection.execute(
            text("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO onetouch_rls_probe")
        )
        connection.execute(text("GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO onetouch_rls_probe"))
        connection.execute(text("GRANT USAGE ON SCHEMA public TO onetouch_rls_probe"))
        connection.execute(text("SET LOCAL ROLE onetouch_rls_probe"))
    yield connection
    if superuser:
        connection.execute(text("RESET ROLE"))


def declare(
    conn: Connection, tenant_id: int | None, national_id: int | None = None, *, cross: bool = False
) -> None:
    rls.declare(conn, rls.context_values(tenant_id, national_id, cross))


@pytest.fixture()
def world(db) -> World:  # type: ignore[no-untyped-def]
    made = make_world(db)
    make_course(db, made.national, "quoc-gia", "Khóa quốc gia", lessons=("A",))
    make_course(db, made.haiphong, "hai-phong", "Khóa Hải Phòng", lessons=("A",))
    db.commit()
    return made


def test_every_tenant_owned_table_is_under_the_policy(connection: Connection) -> None:
    rows = connection.execute(
        text(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,"
            " (SELECT count(*) FROM pg_policies p"
            "  WHERE p.tablename = c.relname AND p.policyname = 'tenant_isolation')"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = current_schema() AND c.relkind = 'r'"
        )
    ).all()
    state = {name: (enabled, forced, policies) for name, enabled, forced, policies in rows}
    owned = [t.name for t in Base.metadata.sorted_tables if "tenant_id" in t.c]
    assert owned, "no tenant-owned table found"
    for table in owned:
        assert state[table] == (True, True, 1), (
            f"{table}: {state[table]} (a new table needs rls.enable_statements)"
        )


def test_raw_sql_without_a_filter_sees_only_the_declared_tenant(world: World, ordinary: Connection) -> None:
    hp, qn = world.haiphong.id, world.quangninh.id
    declare(ordinary, hp)
    tenants = set(ordinary.execute(text("SELECT DISTINCT tenant_id FROM user_account")).scalars())
    assert tenants == {hp}
    assert (
        ordinary.execute(text("SELECT count(*) FROM user_account WHERE tenant_id = :t"), {"t": qn}).scalar()
        == 0
    )
    declare(ordinary, qn)
    assert set(ordinary.execute(text("SELECT DISTINCT tenant_id FROM user_account")).scalars()) == {qn}


def test_a_transaction_that_declares_nothing_sees_no_tenant_rows(world: World, ordinary: Connection) -> None:
    declare(ordinary, None)
    assert ordinary.execute(text("SELECT count(*) FROM user_account")).scalar() == 0
    assert ordinary.execute(text("SELECT count(*) FROM course")).scalar() == 0
    assert ordinary.execute(text("SELECT count(*) FROM tenant")).scalar() >= 3  # a global table


def test_writing_another_tenants_row_is_refused(world: World, ordinary: Connection) -> None:
    declare(ordinary, world.haiphong.id)
    # Updating another tenant's rows changes nothing: they are not visible.
    changed = ordinary.execute(
        text("UPDATE user_account SET full_name = 'x' WHERE tenant_id = :t"), {"t": world.quangninh.id}
    ).rowcount
    assert changed == 0
    with pytest.raises(DBAPIError, match="row-level security"), ordinary.begin_nested():
        ordinary.execute(
            text(
                "INSERT INTO user_account (tenant_id, username, full_name, name_folded, roles, is_active,"
                " must_change_password, token_version, created_at) VALUES"
                " (:t, 'intruder', 'X', 'x', '[\"learner\"]', true, false, 0, now())"
            ),
            {"t": world.quangninh.id},
        )


def test_national_content_is_readable_but_not_writable(world: World, ordinary: Connection) -> None:
    declare(ordinary, world.haiphong.id, world.national.id)
    slugs = set(ordinary.execute(text("SELECT slug FROM course")).scalars())
    assert slugs == {"quoc-gia", "hai-phong"}
    changed = ordinary.execute(
        text("UPDATE course SET title = 'đổi' WHERE tenant_id = :t"), {"t": world.national.id}
    ).rowcount
    assert changed == 0


def test_cross_tenant_work_is_declared_explicitly(world: World, ordinary: Connection) -> None:
    declare(ordinary, None, cross=True)
    tenants = set(ordinary.execute(text("SELECT DISTINCT tenant_id FROM user_account")).scalars())
    assert {world.haiphong.id, world.quangninh.id, world.national.id} <= tenants


def test_the_orm_session_declares_its_tenant(world: World, db, ordinary: Connection) -> None:  # type: ignore[no-untyped-def]
    with in_tenant(db, world.quangninh):
        # Raw SQL through the session: no filter, yet only the session's tenant.
        tenants = set(db.execute(text("SELECT DISTINCT tenant_id FROM user_account")).scalars())
    assert tenants == {world.quangninh.id}
