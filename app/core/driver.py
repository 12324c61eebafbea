"""Fixed Core statements run on the database driver, compiled once (a mechanism: `DRIVER_STATEMENTS`).

SQLAlchemy's execution of one statement (its execution context, parameter handling, result objects) costs
several times what the database takes to run the few fixed statements the learning path and the report
counters run on every event. For those, `compiled()` compiles a statement once per dialect, and `first`,
`rows`, `execute_many`, `rowcount` run it on the driver under the caller's SQLAlchemy connection, inside the
caller's transaction, converting values with the very type processors SQLAlchemy would apply; rows come back
as named tuples with the same names. Listeners of `before_cursor_execute` (the NUL guard, the tests' statement
counts) still see each statement. Two drivers are handled: SQLite's (its DB-API cursor) and asyncpg (the
connection SQLAlchemy's async engine adapts, awaited from the synchronous code `run_sync` runs in a greenlet,
as SQLAlchemy itself does). Elsewhere, and with the setting off, callers use SQLAlchemy.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.expression import Executable
from sqlalchemy.util.concurrency import await_

_ENABLED = {"on": True}


def use_driver_statements(enabled: bool) -> None:
    """Set by the app factory from `DRIVER_STATEMENTS` (the benchmarks switch it off to measure it)."""
    _ENABLED["on"] = enabled


def applies(connection: Connection) -> bool:
    return _ENABLED["on"] and (connection.dialect.name == "sqlite" or connection.dialect.driver == "asyncpg")


def _is_asyncpg(connection: Connection) -> bool:
    return connection.dialect.driver == "asyncpg"


def _asyncpg(connection: Connection) -> Any:
    """The asyncpg connection under SQLAlchemy's adapted one (its transaction already begun by the caller)."""
    return connection.connection.driver_connection


class Compiled:
    """A statement compiled for one dialect with a positional paramstyle, and how to convert its values."""

    def __init__(
        self, stmt: Executable, dialect: Dialect, column_keys: tuple[str, ...] | None = None
    ) -> None:
        compiled = stmt.compile(dialect=dialect, column_keys=column_keys)  # type: ignore[attr-defined]
        if not compiled.positional or compiled.positiontup is None:
            raise TypeError("a positional paramstyle is expected")
        self.sql: str = compiled.string
        self.names = list(compiled.positiontup)
        self.defaults = compiled.construct_params(_check=False)
        binds = compiled._bind_processors
        self.binds = [binds.get(name) for name in self.names]
        columns = compiled._result_columns
        self.row: Any = namedtuple("Row", [c.keyname for c in columns])  # type: ignore[misc]
        self._dialect = dialect
        self._types = [c.type for c in columns]
        # asyncpg's processors need the column's type as the server reports it: known at the first execution.
        self.results: list[Any] | None = (
            None
            if dialect.driver == "asyncpg"
            else [t._cached_result_processor(dialect, None) for t in self._types]
        )

    def learn_result_types(self, oids: Sequence[int]) -> None:
        self.results = [
            t._cached_result_processor(self._dialect, oid) for t, oid in zip(self._types, oids, strict=True)
        ]

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        values = []
        for name, bind in zip(self.names, self.binds, strict=True):
            value = params[name] if name in params else self.defaults[name]
            values.append(bind(value) if bind is not None and value is not None else value)
        return values

    def make(self, raw: Sequence[Any]) -> Any:
        assert self.results is not None
        return self.row._make(p(v) if p is not None else v for p, v in zip(self.results, raw, strict=True))


# Keyed by the statement object itself (kept alive here, so its identity is never reused), the dialect and,
# for an INSERT whose values come from the parameters (the counters' upserts), the columns it is given.
_COMPILED: dict[tuple[Executable, str, tuple[str, ...] | None], Compiled] = {}


def compiled(stmt: Executable, dialect: Dialect, params: Mapping[str, Any] | None = None) -> Compiled:
    columns = tuple(params) if params and isinstance(stmt, Insert) and not stmt._values else None
    key = (stmt, dialect.name, columns)
    found = _COMPILED.get(key)
    if found is None:
        found = _COMPILED[key] = Compiled(stmt, dialect, columns)
    return found


def _prepare(
    connection: Connection, stmt: Executable, params: Mapping[str, Any]
) -> tuple[Compiled, list[Any]]:
    found = compiled(stmt, connection.dialect, params)
    args = found.args(params)
    connection.dispatch.before_cursor_execute(connection, None, found.sql, args, None, False)
    return found, args


def _translated(connection: Connection, sql: str, args: Any, error: Exception) -> Exception:
    """The driver's error as SQLAlchemy would have raised it (`IntegrityError`, `OperationalError`, …), so
    callers and the app's handlers (503 when the database is away) treat both paths alike; a connection the
    error says is gone is invalidated, as SQLAlchemy does."""
    adapted = connection.connection.dbapi_connection
    if _is_asyncpg(connection) and adapted is not None:
        try:
            adapted._handle_exception(error)  # type: ignore[attr-defined]  # raises asyncpg's error translated
        except Exception as translated:
            error = translated
    dbapi = connection.dialect.loaded_dbapi
    wrapped = DBAPIError.instance(sql, args, error, dbapi.Error)
    if isinstance(error, dbapi.Error) and connection.dialect.is_disconnect(error, adapted, None):
        wrapped.connection_invalidated = True
        connection.invalidate(error)
    return wrapped


def _raw_rows(connection: Connection, found: Compiled, args: list[Any]) -> list[Any]:
    try:
        return _run_rows(connection, found, args)
    except Exception as error:
        raise _translated(connection, found.sql, args, error) from error


def _run_rows(connection: Connection, found: Compiled, args: list[Any]) -> list[Any]:
    if _is_asyncpg(connection):
        conn = _asyncpg(connection)
        if found.results is None:  # asyncpg prepares (and caches) the statement: ask it for the column types
            prepared = await_(conn.prepare(found.sql))
            found.learn_result_types([a.type.oid for a in prepared.get_attributes()])
        return await_(conn.fetch(found.sql, *args))  # type: ignore[no-any-return]
    dbapi = connection.connection.dbapi_connection
    assert dbapi is not None
    cursor = dbapi.cursor()
    cursor.execute(found.sql, args)
    return list(cursor.fetchall())  # a RETURNING write completes only when read to the end


def rowcount(connection: Connection, stmt: Executable, params: Mapping[str, Any]) -> int:
    """Run a write; how many rows it changed."""
    found, args = _prepare(connection, stmt, params)
    try:
        if _is_asyncpg(connection):
            status = await_(_asyncpg(connection).execute(found.sql, *args))  # e.g. "UPDATE 1"
            return int(status.rsplit(" ", 1)[-1])
        dbapi = connection.connection.dbapi_connection
        assert dbapi is not None
        cursor = dbapi.cursor()
        cursor.execute(found.sql, args)
        return int(cursor.rowcount)
    except Exception as error:
        raise _translated(connection, found.sql, args, error) from error


def execute_many(connection: Connection, stmt: Executable, rows: Sequence[Mapping[str, Any]]) -> None:
    found = compiled(stmt, connection.dialect, rows[0])
    batch = [found.args(row) for row in rows]
    connection.dispatch.before_cursor_execute(connection, None, found.sql, batch, None, True)
    try:
        if _is_asyncpg(connection):
            await_(_asyncpg(connection).executemany(found.sql, batch))
            return
        dbapi = connection.connection.dbapi_connection
        assert dbapi is not None
        dbapi.cursor().executemany(found.sql, batch)
    except Exception as error:
        raise _translated(connection, found.sql, batch, error) from error


def first(connection: Connection, stmt: Executable, params: Mapping[str, Any]) -> Any | None:
    found, args = _prepare(connection, stmt, params)
    raw = _raw_rows(connection, found, args)
    return found.make(raw[0]) if raw else None


def rows(connection: Connection, stmt: Executable, params: Mapping[str, Any]) -> list[Any]:
    found, args = _prepare(connection, stmt, params)
    return [found.make(raw) for raw in _raw_rows(connection, found, args)]
