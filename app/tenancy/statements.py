"""Core statements on tenant-owned tables, scoped to one tenant by their structure; the one way to run them.

The ORM scopes every statement a session runs (`app/tenancy/scoping.py`). The learning path (lesson reads,
completions, quiz submissions) runs a few fixed SQLAlchemy Core statements instead, built once at import
against the same models, because the ORM costs it more than the database does. They are held to the same rule,
checked on the statement's expression tree (never on its text, which `OR tenant_id = :tenant` would pass):

- every tenant-owned table (or alias of one) that a SELECT, UPDATE or DELETE reads must be filtered by a
  top-level `AND` term `<table>.tenant_id = :tenant` of its WHERE clause, or of the ON clause of the join
  that brings it in; a subquery is checked on its own, tables it correlates to are its enclosing query's;
- an INSERT into a tenant-owned table must write `tenant_id` from `:tenant` (and its SELECT, if any, is
  checked as above).

`scoped()` refuses anything else when the module defining the statement is imported. `TenantConnection` runs
only `Scoped` statements and binds `:tenant` itself to the tenant it was opened for, so a caller can neither
forget the filter nor pass another tenant's id. On PostgreSQL the connection's transaction also carries the
tenant for row-level security (`app/tenancy/rls.py`), the second net.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import Connection, Integer, Table, bindparam
from sqlalchemy.sql import operators
from sqlalchemy.sql.dml import Delete, Insert, Update
from sqlalchemy.sql.elements import BinaryExpression, BindParameter, BooleanClauseList, ColumnElement
from sqlalchemy.sql.expression import Executable
from sqlalchemy.sql.selectable import (
    Alias,
    CompoundSelect,
    FromClause,
    Join,
    Select,
    Subquery,
    TableClause,
)

from app.core import driver

TENANT_PARAM = "tenant"
# The one parameter the tenant filters of scoped statements compare with.
TENANT = bindparam(TENANT_PARAM, type_=Integer)


def table_of(model: type[Any]) -> Table:
    """A model's table, for Core statements."""
    return cast(Table, model.__table__)


class UnscopedStatement(ValueError):
    """A Core statement touches a tenant-owned table without the tenant filter."""


def _tenant_owned(table: TableClause) -> bool:
    # Every table but `tenant` itself is tenant-owned (tests/test_architecture.py holds the models to it).
    return "tenant_id" in table.c


def _base_table(from_: FromClause) -> TableClause | None:
    """The table behind a FROM element (the element itself, or what an alias of a table names)."""
    if isinstance(from_, TableClause):
        return from_
    if isinstance(from_, Alias) and isinstance(from_.element, TableClause):
        return from_.element
    return None


def _conjuncts(clause: ColumnElement[Any] | None) -> Iterator[ColumnElement[Any]]:
    """The terms of a clause's top-level AND (the clause itself when it is not an AND)."""
    if clause is None:
        return
    if isinstance(clause, BooleanClauseList) and clause.operator is operators.and_:
        for term in clause.clauses:
            yield from _conjuncts(term)  # type: ignore[arg-type]
    else:
        yield clause


def _filters_tenant(term: ColumnElement[Any], from_: FromClause) -> bool:
    """Is `term` exactly `<from_>.tenant_id = :tenant` (either way round)?"""
    if not isinstance(term, BinaryExpression) or term.operator is not operators.eq:
        return False
    for column, value in ((term.left, term.right), (term.right, term.left)):
        if (
            isinstance(value, BindParameter)
            and value.key == TENANT_PARAM
            and getattr(column, "name", None) == "tenant_id"
            and getattr(column, "table", None) is from_
        ):
            return True
    return False


def _tables_of(from_: FromClause, on: list[ColumnElement[Any]]) -> Iterator[tuple[FromClause, list[Any]]]:
    """Each table or alias in a FROM element, with the join conditions that may filter it."""
    if isinstance(from_, Join):
        conditions = [*on, *_conjuncts(from_.onclause)]
        yield from _tables_of(from_.left, conditions)
        yield from _tables_of(from_.right, conditions)
    else:
        yield from_, on


def _check_froms(froms: Iterable[FromClause], where: ColumnElement[Any] | None, what: str) -> None:
    terms = list(_conjuncts(where))
    for from_ in froms:
        for element, on in _tables_of(from_, []):
            if isinstance(element, Subquery | Alias) and _base_table(element) is None:
                continue  # a derived table: its own SELECT is checked where it is found
            table = _base_table(element)
            if table is None or not _tenant_owned(table):
                continue
            if not any(_filters_tenant(t, element) for t in [*on, *terms]):
                name = getattr(element, "name", table.name)
                raise UnscopedStatement(
                    f"{what}: {name} is not filtered by {name}.tenant_id = :{TENANT_PARAM}"
                )


def _check_select(select: Select[Any], outer: frozenset[FromClause]) -> None:
    froms = [f for f in select.get_final_froms() if f not in outer]
    _check_froms(froms, select.whereclause, "SELECT")


def _check_insert(stmt: Insert) -> None:
    table = stmt.table
    if not isinstance(table, TableClause) or not _tenant_owned(table):
        return
    values = dict(stmt._values or {})
    multi = stmt._multi_values
    if multi:
        raise UnscopedStatement(f"INSERT into {table.name}: use executemany with bound parameters instead")
    select = stmt.select
    if select is not None:
        names = [c.name if hasattr(c, "name") else str(c) for c in stmt._select_names or []]
        index = names.index("tenant_id") if "tenant_id" in names else -1
        columns = list(select.selected_columns)
        if index < 0 or not (
            isinstance(columns[index], BindParameter) and columns[index].key == TENANT_PARAM
        ):
            raise UnscopedStatement(
                f"INSERT into {table.name} … SELECT must select :{TENANT_PARAM} as tenant_id"
            )
        return
    value = next((v for k, v in values.items() if getattr(k, "name", k) == "tenant_id"), None)
    if not (isinstance(value, BindParameter) and value.key == TENANT_PARAM):
        raise UnscopedStatement(f"INSERT into {table.name} must write tenant_id = :{TENANT_PARAM}")


def _check_dml(stmt: Update | Delete) -> None:
    table = stmt.table
    if isinstance(table, TableClause) and _tenant_owned(table):
        _check_froms([table], stmt.whereclause, type(stmt).__name__.upper())


def check(stmt: Executable) -> None:
    """Raise `UnscopedStatement` unless every tenant-owned table in `stmt` is filtered by (or written with)
    `:tenant` as the module docstring says; every nested SELECT is checked too, against its own filters."""
    if isinstance(stmt, Insert):
        _check_insert(stmt)
        outer: frozenset[FromClause] = frozenset()
    elif isinstance(stmt, Update | Delete):
        _check_dml(stmt)
        outer = frozenset([stmt.table])  # type: ignore[list-item]
    elif isinstance(stmt, Select | CompoundSelect):
        outer = frozenset()
    else:
        raise UnscopedStatement(f"not a Core statement that can be checked: {type(stmt).__name__}")
    _walk(stmt, outer, set())


def _walk(element: Any, outer: frozenset[FromClause], seen: set[int]) -> None:
    """Check every SELECT below `element`; `outer` holds what its enclosing queries (never its siblings) read,
    the tables a subquery may correlate to."""
    if id(element) in seen:
        return
    seen.add(id(element))
    if isinstance(element, Select):
        _check_select(element, outer)
        outer = outer | {t for f in element.get_final_froms() for t, _ in _tables_of(f, [])}
    for child in element.get_children():
        _walk(child, outer, seen)


class Scoped:
    """A checked statement (or one per dialect, for the few that differ: upserts)."""

    def __init__(self, stmt: Executable | Mapping[str, Executable]) -> None:
        statements = dict(stmt) if isinstance(stmt, Mapping) else {"": stmt}
        for each in statements.values():
            check(each)
        self._by_dialect = statements

    def for_dialect(self, dialect: str) -> Executable:
        found = self._by_dialect.get(dialect)
        if found is None:
            found = self._by_dialect.get("")
        if found is None:
            raise KeyError(f"no statement for {dialect}")
        return found


def scoped(stmt: Executable | Mapping[str, Executable]) -> Scoped:
    """Check `stmt` (see `check`) and wrap it so `TenantConnection` will run it."""
    return Scoped(stmt)


class TenantConnection:
    """Runs `Scoped` statements on a connection for one tenant, binding `:tenant` itself.

    On SQLite the statements run on the driver's cursor, compiled once (`app/core/driver.py`,
    `DRIVER_STATEMENTS`): the rows have the same names and values either way.
    """

    def __init__(self, connection: Connection, tenant_id: int) -> None:
        self.connection = connection
        self.tenant_id = tenant_id
        self.dialect = connection.dialect.name
        self._driver = driver.applies(connection)

    def _params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        if TENANT_PARAM in params:
            raise ValueError(f"`{TENANT_PARAM}` is bound by TenantConnection itself")
        return {**params, TENANT_PARAM: self.tenant_id}

    def rows(self, stmt: Scoped, **params: Any) -> Sequence[Any]:
        """The rows of a SELECT (or of a write with RETURNING)."""
        if self._driver:
            return driver.rows(self.connection, stmt.for_dialect(self.dialect), self._params(params))
        return self.connection.execute(stmt.for_dialect(self.dialect), self._params(params)).all()

    def first(self, stmt: Scoped, **params: Any) -> Any | None:
        if self._driver:
            return driver.first(self.connection, stmt.for_dialect(self.dialect), self._params(params))
        return self.connection.execute(stmt.for_dialect(self.dialect), self._params(params)).first()

    def scalar(self, stmt: Scoped, **params: Any) -> Any:
        row = self.first(stmt, **params)
        return None if row is None else row[0]

    def run(self, stmt: Scoped, **params: Any) -> int:
        """A write; how many rows it changed."""
        if self._driver:
            _, cursor = driver.execute(self.connection, stmt.for_dialect(self.dialect), self._params(params))
            return int(cursor.rowcount)
        result = self.connection.execute(stmt.for_dialect(self.dialect), self._params(params))
        return int(result.rowcount)

    def run_many(self, stmt: Scoped, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        if self._driver:
            driver.execute_many(
                self.connection, stmt.for_dialect(self.dialect), [self._params(r) for r in rows]
            )
        else:
            self.connection.execute(stmt.for_dialect(self.dialect), [self._params(r) for r in rows])


@contextmanager
def transaction(
    connection: Connection,
    tenant_id: int,
    national_id: int | None = None,
    *,
    write: bool = False,
    nowait: bool = False,
) -> Iterator[TenantConnection]:
    """A transaction for one tenant on `connection`, declared to row-level security (PostgreSQL).

    `write`: on SQLite, take the database's write lock up front (`BEGIN IMMEDIATE`, `app/core/db.py`);
    `nowait`: raise `app.core.db.Busy` at once instead of waiting for it. Inside a transaction the connection
    already has (the test suite's), a savepoint.
    """
    from app.tenancy import rls

    nested = connection.in_transaction()
    if write and not nested:
        connection.execution_options(sqlite_immediate=True, sqlite_nowait=nowait)
    try:
        with connection.begin_nested() if nested else connection.begin():
            rls.declare(connection, rls.context_values(tenant_id, national_id, cross=False))
            yield TenantConnection(connection, tenant_id)
    finally:
        if write and not nested:
            connection.execution_options(sqlite_immediate=False, sqlite_nowait=False)
