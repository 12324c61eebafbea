"""Hand-written SQL for the few hottest requests, scoped to one tenant by construction.

Everywhere else the ORM scopes every statement to the session's tenant (`app/tenancy/scoping.py`). The lesson
page, the lesson API and lesson completion run millions of times a day and the ORM costs them ~1 ms per
statement on a small server, so they run a few fixed statements through a SQLAlchemy `Connection` instead.
Tenant isolation stays enforced in one place for them too:

- a statement is a `ScopedSQL`, which refuses (at import time) any table in FROM/JOIN/INTO/UPDATE that is
  not filtered on `<alias>.tenant_id = :tenant` (or, for INSERT, does not write `tenant_id` from `:tenant`);
- `TenantSQL` is the only way to run one, and it binds `:tenant` itself from the request's resolved tenant,
  so a caller cannot forget or pass another tenant's id.

Statements use `:name` placeholders; PostgreSQL's driver gets `%(name)s`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session, sessionmaker

_TABLE = re.compile(r"\b(FROM|JOIN|UPDATE)\s+([a-z_]+)(?:\s+(?:AS\s+)?([a-z_]+))?", re.IGNORECASE)
_INSERT = re.compile(r"\bINSERT\s+INTO\s+([a-z_]+)\s*\(([^)]*)\)\s*VALUES\s*\(([^)]*)\)", re.IGNORECASE)
_KEYWORDS = {"where", "set", "on", "left", "join", "inner", "group", "order", "limit", "returning"}
_PARAM = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)", re.IGNORECASE)


class ScopedSQL:
    """One statement on tenant-owned tables; every table in it is filtered (or written) by `:tenant`."""

    def __init__(self, sql: str) -> None:
        self.sql = " ".join(sql.split())
        for match in _TABLE.finditer(self.sql):
            table, alias = match.group(2), match.group(3)
            name = alias if alias and alias.lower() not in _KEYWORDS else table
            if f"{name}.tenant_id = :tenant" not in self.sql:
                raise ValueError(f"{table} is not filtered by `{name}.tenant_id = :tenant` in: {self.sql}")
        for match in _INSERT.finditer(self.sql):
            columns = [c.strip() for c in match.group(2).split(",")]
            values = [v.strip() for v in match.group(3).split(",")]
            if dict(zip(columns, values, strict=True)).get("tenant_id") != ":tenant":
                raise ValueError(f"{match.group(1)} is not written with tenant_id = :tenant in: {self.sql}")
        self.pyformat = _PARAM.sub(r"%(\1)s", self.sql.replace("%", "%%"))

    def text_for(self, dialect: str) -> str:
        return self.pyformat if dialect == "postgresql" else self.sql


class TenantSQL:
    """Runs `ScopedSQL` statements on one connection, always with the request's tenant bound as `:tenant`."""

    def __init__(self, conn: Connection, tenant_id: int) -> None:
        self.conn = conn
        self.tenant_id = tenant_id
        self.dialect = conn.dialect.name

    def execute(self, stmt: ScopedSQL, **params: Any) -> CursorResult[Any]:
        if "tenant" in params:
            raise ValueError("`tenant` is bound by TenantSQL itself")
        bound: Mapping[str, Any] = {**params, "tenant": self.tenant_id}
        return self.conn.exec_driver_sql(stmt.text_for(self.dialect), bound)

    def execute_many(self, stmt: ScopedSQL, rows: list[dict[str, Any]]) -> None:
        if any("tenant" in row for row in rows):
            raise ValueError("`tenant` is bound by TenantSQL itself")
        if rows:
            bound = [{**row, "tenant": self.tenant_id} for row in rows]
            self.conn.exec_driver_sql(stmt.text_for(self.dialect), bound)  # type: ignore[arg-type]


class TenantReader:
    """Runs `ScopedSQL` reads straight through the driver (no SQLAlchemy result objects) for `tenant_id`.

    The cheapest read there is: a pooled driver connection, one cursor, tuples back. Used where a page view
    must cost as little as possible (app/progress/hot.py); writes go through `tenant_sql`.
    """

    def __init__(self, dbapi_connection: Any, tenant_id: int, dialect: str) -> None:
        self._conn = dbapi_connection
        self.tenant_id = tenant_id
        self.dialect = dialect

    def rows(self, stmt: ScopedSQL, **params: Any) -> list[tuple[Any, ...]]:
        if "tenant" in params:
            raise ValueError("`tenant` is bound by TenantReader itself")
        cursor = self._conn.cursor()
        try:
            cursor.execute(stmt.text_for(self.dialect), {**params, "tenant": self.tenant_id})
            return [tuple(row) for row in cursor.fetchall()]
        finally:
            cursor.close()


@contextmanager
def tenant_reader(session_factory: sessionmaker[Session], tenant_id: int) -> Iterator[TenantReader]:
    """Read-only access for `tenant_id`; the connection goes back to the pool (rolled back) afterwards."""
    bind = bind_of(session_factory)
    if isinstance(bind, Connection):  # the test suite: read inside its transaction
        yield TenantReader(bind.connection.dbapi_connection, tenant_id, bind.dialect.name)
        return
    pooled = bind.raw_connection()
    try:
        yield TenantReader(pooled.dbapi_connection, tenant_id, bind.dialect.name)
    finally:
        pooled.close()


def bind_of(session_factory: sessionmaker[Session]) -> Engine | Connection:
    bind = session_factory.kw.get("bind")
    if not isinstance(bind, Engine | Connection):
        raise TypeError("the session factory is not bound to an engine or a connection")
    return bind


def dialect_of(session_factory: sessionmaker[Session]) -> str:
    return bind_of(session_factory).dialect.name


@contextmanager
def tenant_sql(
    session_factory: sessionmaker[Session], tenant_id: int, *, write: bool = False
) -> Iterator[TenantSQL]:
    """A transaction on the app's database for `tenant_id`: committed when the block ends, else rolled back.

    `write=True` takes SQLite's write lock up front (BEGIN IMMEDIATE, queued on the process's writer lock,
    `app/core/db.py`). Where the app's sessions are bound to one connection (the test suite's rolled-back
    transaction), the block is a savepoint on it.
    """
    bind = bind_of(session_factory)
    if isinstance(bind, Connection):
        with bind.begin_nested():
            yield TenantSQL(bind, tenant_id)
        return
    with bind.connect() as conn:
        if write:
            conn = conn.execution_options(sqlite_immediate=True)
        with conn.begin():
            yield TenantSQL(conn, tenant_id)
