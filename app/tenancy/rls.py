"""PostgreSQL row-level security: the second net under tenant scoping.

Scoping in the application (`scoping.py` for the ORM, `statements.py` for Core) is the first net. On
PostgreSQL every tenant-owned table also has a policy that lets a transaction see and write only the rows of
the tenant it declared, with `SET LOCAL` semantics (`set_config(…, true)`), so it works behind PgBouncer in
transaction mode, and raw SQL that forgets its filter still sees no other tenant's rows:

- `app.tenant_id`: the request's tenant; `app.national_tenant_id`: whose content (courses, lessons, quizzes)
  every portal may read;
- `app.cross_tenant = 'on'`: national roll-ups, merges, seeding and the CLI, inside an explicit
  `cross_tenant(session)` block (greppable, like the ORM's).

A transaction that declared nothing sees no tenant-owned row at all. The tables are `FORCE`d, so the policies
hold for their owner too; only a superuser (or a role with BYPASSRLS) ignores them: run the application as an
ordinary role (docs/operations.md). SQLite has no such feature; there scoping in the application is the guard.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, text

TENANT = "app.tenant_id"
NATIONAL = "app.national_tenant_id"
CROSS = "app.cross_tenant"

_OWN = f"tenant_id = NULLIF(current_setting('{TENANT}', true), '')::integer"
_CROSS = f"current_setting('{CROSS}', true) = 'on'"
_NATIONAL = f"tenant_id = NULLIF(current_setting('{NATIONAL}', true), '')::integer"


def enable_statements(table: str, *, shared_read: bool = False) -> list[str]:
    """The DDL that puts `table` under the tenant policy (for migrations; static SQL, no bound values)."""
    sql = [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY tenant_isolation ON {table}"
        f" USING ({_OWN} OR {_CROSS}) WITH CHECK ({_OWN} OR {_CROSS})",
    ]
    if shared_read:
        sql.append(f"CREATE POLICY national_read ON {table} FOR SELECT USING ({_NATIONAL})")
    return sql


def disable_statements(table: str, *, shared_read: bool = False) -> list[str]:
    sql = [f"DROP POLICY IF EXISTS tenant_isolation ON {table}"]
    if shared_read:
        sql.append(f"DROP POLICY IF EXISTS national_read ON {table}")
    sql += [
        f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY",
    ]
    return sql


_SET = text(
    "SELECT set_config('app.tenant_id', :tenant, true),"
    " set_config('app.national_tenant_id', :national, true),"
    " set_config('app.cross_tenant', :cross, true)"
)


def context_values(tenant_id: int | None, national_id: int | None, cross: bool) -> dict[str, str]:
    return {
        "tenant": "" if tenant_id is None else str(int(tenant_id)),
        "national": "" if national_id is None else str(int(national_id)),
        "cross": "on" if cross else "",
    }


def declare(connection: Connection, values: Mapping[str, Any]) -> None:
    """Declare the transaction's tenant (PostgreSQL only; a no-op elsewhere). Transaction-local."""
    if connection.dialect.name == "postgresql":
        # Through SQLAlchemy even where the driver mechanism applies (app/core/driver.py): on asyncpg this
        # first statement is what begins the adapted connection's transaction, which the driver's joins.
        connection.execute(_SET, dict(values))
