"""Hand-written SQL for the few hottest requests, scoped to one tenant by construction.

Everywhere else the ORM scopes every statement to the session's tenant (`app/tenancy/scoping.py`). The lesson
page, the lesson API and lesson completion run millions of times a day and the ORM costs them ~1 ms per
statement on a small server, so they run a few fixed statements straight through the database driver
instead. Tenant isolation stays enforced in one place for them too:

- a statement is a `ScopedSQL`, which refuses (at import time) any table in FROM/JOIN/INTO/UPDATE that is
  not filtered on `<alias>.tenant_id = :tenant` (or, for INSERT, does not write `tenant_id` from `:tenant`);
- `TenantCursor` is the only way to run one, and it binds `:tenant` itself from the request's resolved
  tenant, so a caller cannot forget or pass another tenant's id.

Statements use `:name` placeholders; PostgreSQL's driver gets `%(name)s`.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from app.core.db import SQLITE_BUSY_TIMEOUT_MS, writer_lock

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


class Busy(Exception):
    """`nowait=True` and another writer holds the lock: try again where waiting is allowed."""


class TenantCursor:
    """Runs `ScopedSQL` statements through a driver connection, always with `:tenant` bound to one tenant."""

    def __init__(self, dbapi_connection: Any, tenant_id: int, dialect: str) -> None:
        self._conn = dbapi_connection
        self.tenant_id = tenant_id
        self.dialect = dialect

    def _params(self, params: dict[str, Any]) -> dict[str, Any]:
        if "tenant" in params:
            raise ValueError("`tenant` is bound by TenantCursor itself")
        return {**params, "tenant": self.tenant_id}

    def rows(self, stmt: ScopedSQL, **params: Any) -> list[tuple[Any, ...]]:
        """The statement's rows (a SELECT, or a write with RETURNING)."""
        cursor = self._conn.cursor()
        try:
            cursor.execute(stmt.text_for(self.dialect), self._params(params))
            return [tuple(row) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def run(self, stmt: ScopedSQL, **params: Any) -> int:
        """A write; the number of rows it changed."""
        cursor = self._conn.cursor()
        try:
            cursor.execute(stmt.text_for(self.dialect), self._params(params))
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def run_many(self, stmt: ScopedSQL, rows: list[dict[str, Any]]) -> None:
        if rows:
            cursor = self._conn.cursor()
            try:
                cursor.executemany(stmt.text_for(self.dialect), [self._params(row) for row in rows])
            finally:
                cursor.close()


def bind_of(session_factory: sessionmaker[Session]) -> Engine | Connection:
    bind = session_factory.kw.get("bind")
    if not isinstance(bind, Engine | Connection):
        raise TypeError("the session factory is not bound to an engine or a connection")
    return bind


def dialect_of(session_factory: sessionmaker[Session]) -> str:
    return bind_of(session_factory).dialect.name


@contextmanager
def tenant_reader(session_factory: sessionmaker[Session], tenant_id: int) -> Iterator[TenantCursor]:
    """Read-only access for `tenant_id`; the connection goes back to the pool afterwards.

    PostgreSQL reads in autocommit: no BEGIN before them, no ROLLBACK when the pool takes the connection
    back (two round trips of three). A connection that fails is discarded, and the error raised.
    """
    bind = bind_of(session_factory)
    if isinstance(bind, Connection):  # the test suite: read inside its transaction
        yield TenantCursor(bind.connection.dbapi_connection, tenant_id, bind.dialect.name)
        return
    pooled = bind.raw_connection()
    conn: Any = pooled.dbapi_connection
    autocommit = bind.dialect.name == "postgresql"
    if autocommit:
        conn.autocommit = True
    try:
        yield TenantCursor(conn, tenant_id, bind.dialect.name)
    except Exception:
        pooled.invalidate()  # maybe the server restarted since it was pooled: never reuse it
        raise
    finally:
        try:
            if autocommit:
                conn.autocommit = False
        finally:
            pooled.close()


@contextmanager
def tenant_writer(
    session_factory: sessionmaker[Session], tenant_id: int, *, nowait: bool = False
) -> Iterator[TenantCursor]:
    """A write transaction for `tenant_id`: committed when the block ends, rolled back if it raises.

    On SQLite it queues on the process's writer lock and takes the database's write lock up front (BEGIN
    IMMEDIATE), as every ORM write does (`app/core/db.py`). `nowait=True` raises `Busy` at once instead of
    queueing, for a caller on the event loop, which must never wait for a lock. Where the app's sessions are
    bound to one connection (the test suite's transaction), the block is a savepoint on it.
    """
    bind = bind_of(session_factory)
    dialect = bind.dialect.name
    if isinstance(bind, Connection):
        dbapi = bind.connection.dbapi_connection
        with _savepoint(dbapi):
            yield TenantCursor(dbapi, tenant_id, dialect)
        return
    lock = writer_lock(bind)
    if lock is not None and not (lock.acquire(blocking=False) if nowait else lock.acquire(timeout=30)):
        if nowait:
            raise Busy
        raise sqlite3.OperationalError("database is locked")
    try:
        pooled = bind.raw_connection()
        try:
            conn: Any = pooled.dbapi_connection
            if dialect == "sqlite":
                _begin_immediate(conn, nowait=nowait)
            try:
                yield TenantCursor(conn, tenant_id, dialect)
            except BaseException:
                conn.rollback()
                raise
            conn.commit()
        finally:
            pooled.close()
    finally:
        if lock is not None:
            lock.release()


def _begin_immediate(conn: Any, *, nowait: bool) -> None:
    if not nowait:
        conn.execute("BEGIN IMMEDIATE")
        return
    conn.execute("PRAGMA busy_timeout = 0")  # another process holds the lock: say so at once
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        raise Busy from exc
    finally:
        conn.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")


@contextmanager
def _savepoint(dbapi: Any) -> Iterator[None]:
    cursor = dbapi.cursor()
    cursor.execute("SAVEPOINT hot_write")
    try:
        yield
    except BaseException:
        cursor.execute("ROLLBACK TO SAVEPOINT hot_write")
        cursor.execute("RELEASE SAVEPOINT hot_write")
        raise
    cursor.execute("RELEASE SAVEPOINT hot_write")
    cursor.close()
