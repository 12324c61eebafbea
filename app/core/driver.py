"""Fixed Core statements run on SQLite's driver cursor, compiled once (a mechanism: `DRIVER_STATEMENTS`).

SQLAlchemy's execution of one statement (its execution context, parameter handling, result objects) costs
several times what SQLite takes to run the few fixed statements the learning path and the report counters run
on every event. For those, `compiled()` compiles a statement once per dialect, and `execute`/`execute_many`
run it on the DB-API cursor of the caller's SQLAlchemy connection, inside the caller's transaction, converting
values with the very type processors SQLAlchemy would apply; rows come back as named tuples with the same
names. Listeners of `before_cursor_execute` (the NUL guard, the tests' statement counts) still see each
statement. Only SQLite's driver is handled: elsewhere (and with the setting off) callers use SQLAlchemy.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Dialect
from sqlalchemy.sql.expression import Executable

_ENABLED = {"on": True}


def use_driver_statements(enabled: bool) -> None:
    """Set by the app factory from `DRIVER_STATEMENTS` (the benchmarks switch it off to measure it)."""
    _ENABLED["on"] = enabled


def applies(connection: Connection) -> bool:
    return _ENABLED["on"] and connection.dialect.name == "sqlite"


class Compiled:
    """A statement compiled for one dialect with a positional paramstyle, and how to convert its values."""

    def __init__(self, stmt: Executable, dialect: Dialect) -> None:
        compiled = stmt.compile(dialect=dialect)  # type: ignore[attr-defined]
        if not compiled.positional or compiled.positiontup is None:
            raise TypeError("a positional paramstyle is expected")
        self.sql: str = compiled.string
        self.names = list(compiled.positiontup)
        self.defaults = compiled.construct_params(_check=False)
        binds = compiled._bind_processors
        self.binds = [binds.get(name) for name in self.names]
        columns = compiled._result_columns
        self.row: Any = namedtuple("Row", [c.keyname for c in columns])  # type: ignore[misc]
        self.results = [c.type._cached_result_processor(dialect, None) for c in columns]

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        values = []
        for name, bind in zip(self.names, self.binds, strict=True):
            value = params[name] if name in params else self.defaults[name]
            values.append(bind(value) if bind is not None and value is not None else value)
        return values

    def make(self, raw: Sequence[Any]) -> Any:
        return self.row._make(p(v) if p is not None else v for p, v in zip(self.results, raw, strict=True))


# Keyed by the statement object itself (kept alive here, so its identity is never reused) and the dialect.
_COMPILED: dict[tuple[Executable, str], Compiled] = {}


def compiled(stmt: Executable, dialect: Dialect) -> Compiled:
    key = (stmt, dialect.name)
    found = _COMPILED.get(key)
    if found is None:
        found = _COMPILED[key] = Compiled(stmt, dialect)
    return found


def execute(connection: Connection, stmt: Executable, params: Mapping[str, Any]) -> tuple[Compiled, Any]:
    """Run `stmt` with `params` on the connection's driver cursor; the compiled form and the cursor."""
    found = compiled(stmt, connection.dialect)
    args = found.args(params)
    dbapi = connection.connection.dbapi_connection
    assert dbapi is not None
    cursor = dbapi.cursor()
    connection.dispatch.before_cursor_execute(connection, cursor, found.sql, args, None, False)
    cursor.execute(found.sql, args)
    return found, cursor


def execute_many(connection: Connection, stmt: Executable, rows: Sequence[Mapping[str, Any]]) -> None:
    found = compiled(stmt, connection.dialect)
    batch = [found.args(row) for row in rows]
    dbapi = connection.connection.dbapi_connection
    assert dbapi is not None
    cursor = dbapi.cursor()
    connection.dispatch.before_cursor_execute(connection, cursor, found.sql, batch, None, True)
    cursor.executemany(found.sql, batch)


def first(connection: Connection, stmt: Executable, params: Mapping[str, Any]) -> Any | None:
    found, cursor = execute(connection, stmt, params)
    raw = cursor.fetchone()
    cursor.fetchall()  # finish the statement (a RETURNING write completes only when read to the end)
    return None if raw is None else found.make(raw)


def rows(connection: Connection, stmt: Executable, params: Mapping[str, Any]) -> list[Any]:
    found, cursor = execute(connection, stmt, params)
    return [found.make(raw) for raw in cursor.fetchall()]
