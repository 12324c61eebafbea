"""Tenant scoping, enforced once for every ORM statement a session runs.

A session is bound to one tenant with `bind_tenant`. From then on:
- every ORM SELECT/UPDATE/DELETE touching a `TenantScoped` entity gets `tenant_id = :bound` added
  (`tenant_id IN (:bound, :national)` for reads of shared national content);
- every new `TenantScoped` row gets the bound tenant's id, and a row of another tenant is refused on flush.
An unbound session that queries a tenant-owned entity raises, unless the caller explicitly opened a
`cross_tenant(session)` block (national reports, the CLI, seeding): forgetting is impossible, bypassing is
explicit and greppable. Raw SQL (`text()`/Core inserts) is not rewritten: keep it in reviewed places that
filter by `tenant_id` themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from app.tenancy import rls
from app.tenancy.models import TenantScoped

_TENANT = "tenant_id"
_SHARED = "shared_tenant_ids"
_NATIONAL = "national_tenant_id"
_BYPASS = "tenant_bypass"


class TenantScopeError(RuntimeError):
    """A tenant-owned table was touched without a bound tenant, or across tenants."""


def bind_tenant(session: Session, tenant_id: int, *, national_tenant_id: int | None = None) -> None:
    current = session.info.get(_TENANT)
    if current == tenant_id:
        return
    if any(isinstance(obj, TenantScoped) for obj in session.identity_map.values()):
        # session.get() answers from the identity map without SQL: a re-bound session could hand back
        # another tenant's object.
        raise TenantScopeError("cannot re-bind a session that already holds tenant-owned rows")
    session.info[_TENANT] = tenant_id
    session.info[_NATIONAL] = national_tenant_id
    shared = {tenant_id}
    if national_tenant_id is not None:
        shared.add(national_tenant_id)
    session.info[_SHARED] = tuple(sorted(shared))
    _redeclare(session)


def bound_tenant_id(session: Session) -> int | None:
    return session.info.get(_TENANT)


def readable_tenant_ids(session: Session) -> tuple[int, ...]:
    """Whose shared content (courses and their parts) this session may read: its tenant and the national one.

    For content served from a cache shared by every tenant: the caller checks the row's `tenant_id` against
    this, as the ORM criteria would have.
    """
    if session.info.get(_BYPASS):
        raise TenantScopeError("readable_tenant_ids() inside cross_tenant(): check visibility explicitly")
    tenant_id = session.info.get(_TENANT)
    if tenant_id is None:
        raise TenantScopeError("shared content read by a session with no bound tenant")
    return session.info.get(_SHARED, (tenant_id,))


@contextmanager
def cross_tenant(session: Session) -> Iterator[Session]:
    """Explicitly lift tenant scoping for this block (national roll-ups, CLI, seeding)."""
    previous = session.info.get(_BYPASS, False)
    session.info[_BYPASS] = True
    _redeclare(session)
    try:
        yield session
    finally:
        session.info[_BYPASS] = previous
        _redeclare(session)


def _touches_scoped(state: ORMExecuteState) -> bool:
    return any(issubclass(m.class_, TenantScoped) for m in state.all_mappers)


@event.listens_for(Session, "do_orm_execute")
def _scope_statement(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    session = state.session
    if session.info.get(_BYPASS):
        return
    tenant_id = session.info.get(_TENANT)
    if tenant_id is None:
        if _touches_scoped(state):
            raise TenantScopeError("tenant-owned table queried by a session with no bound tenant")
        return
    shared_ids = session.info.get(_SHARED, (tenant_id,))
    state.statement = state.statement.options(*_criteria(state.is_select, tenant_id, shared_ids))


def _scoped_classes() -> tuple[tuple[type, ...], tuple[type, ...]]:
    """(shared-read classes, tenant-only classes) among the mapped `TenantScoped` models."""
    from app.core.db import Base

    mappers = Base.registry.mappers
    key = len(mappers)
    cached = _CLASSES.get(key)
    if cached is None:
        classes = [m.class_ for m in mappers if issubclass(m.class_, TenantScoped)]
        cached = (
            tuple(c for c in classes if getattr(c, "__tenant_shared_read__", False)),
            tuple(c for c in classes if not getattr(c, "__tenant_shared_read__", False)),
        )
        _CLASSES.clear()
        _CLASSES[key] = cached
    return cached


_CLASSES: dict[int, tuple[tuple[type, ...], tuple[type, ...]]] = {}


def _criteria(is_select: bool, tenant_id: int, shared_ids: tuple[int, ...]) -> tuple[Any, ...]:
    """The criteria options for one (statement kind, tenant): built once per worker, then reused.

    Building them was a sixth of a lesson read's time; the options are immutable, so sharing them between
    sessions and threads is safe. The key holds every value the lambdas close over.
    """
    classes = _scoped_classes()  # a new tuple when more models are mapped: the key changes with it
    key = (is_select, tenant_id, shared_ids, id(classes))
    cached = _CRITERIA.get(key)
    if cached is None:
        if len(_CRITERIA) > 4096:  # tenants are few; this only bounds a pathological case
            _CRITERIA.clear()
        cached = tuple(_build_criteria(is_select, tenant_id, shared_ids, classes))
        _CRITERIA[key] = cached
    return cached


_CRITERIA: dict[tuple[Any, ...], tuple[Any, ...]] = {}


def _build_criteria(
    is_select: bool,
    tenant_id: int,
    shared_ids: tuple[int, ...],
    classes: tuple[tuple[type, ...], tuple[type, ...]],
) -> list[Any]:
    # Each criteria lambda has one fixed SQL shape: SQLAlchemy caches a lambda's SQL by its code, so a lambda
    # choosing between `==` and `IN` per class would hand one class's cached shape to another.
    if not is_select:
        return [
            with_loader_criteria(
                TenantScoped,
                lambda cls: cls.tenant_id == tenant_id,
                include_aliases=True,
                track_closure_variables=False,
            )
        ]
    shared, own = classes
    options = [
        with_loader_criteria(
            c,
            lambda cls: cls.tenant_id.in_(shared_ids),
            include_aliases=True,
            track_closure_variables=False,
        )
        for c in shared
    ]
    options += [
        with_loader_criteria(
            c,
            lambda cls: cls.tenant_id == tenant_id,
            include_aliases=True,
            track_closure_variables=False,
        )
        for c in own
    ]
    return options


@event.listens_for(Session, "before_flush")
def _stamp_and_guard(session: Session, _ctx: Any, _instances: Any) -> None:
    if session.info.get(_BYPASS):
        for obj in session.new:
            if isinstance(obj, TenantScoped) and getattr(obj, "tenant_id", None) is None:
                raise TenantScopeError(f"{type(obj).__name__} needs an explicit tenant_id outside a tenant")
        return
    tenant_id = session.info.get(_TENANT)
    new = session.new  # built anew on each access: once here, not once per object (10,000 new units: 9 s)
    for obj in list(new) + list(session.dirty) + list(session.deleted):
        if not isinstance(obj, TenantScoped):
            continue
        if tenant_id is None:
            raise TenantScopeError(f"{type(obj).__name__} written by a session with no bound tenant")
        if obj in new and getattr(obj, "tenant_id", None) is None:
            obj.tenant_id = tenant_id
        elif obj.tenant_id != tenant_id:
            raise TenantScopeError(f"{type(obj).__name__} of tenant {obj.tenant_id} written from {tenant_id}")


def unbind_tenant(session: Session) -> None:
    """Forget the bound tenant; the session must hold no tenant-owned rows (expunge or close first)."""
    if any(isinstance(obj, TenantScoped) for obj in session.identity_map.values()):
        raise TenantScopeError("cannot unbind a session that still holds tenant-owned rows")
    session.info.pop(_TENANT, None)
    session.info.pop(_SHARED, None)
    session.info.pop(_NATIONAL, None)
    _redeclare(session)


# Row-level security (PostgreSQL): each transaction declares the session's tenant (app/tenancy/rls.py).


def rls_context(session: Session) -> dict[str, str]:
    """What the session's transactions declare to PostgreSQL's row-level security."""
    return rls.context_values(
        session.info.get(_TENANT), session.info.get(_NATIONAL), bool(session.info.get(_BYPASS))
    )


@event.listens_for(Session, "after_begin")
def _declare_on_begin(session: Session, _transaction: Any, connection: Connection) -> None:
    rls.declare(connection, rls_context(session))


def _redeclare(session: Session) -> None:
    """The session's tenant changed inside a transaction: declare it again (the connection's, if any)."""
    if session.in_transaction() and session.get_bind().dialect.name == "postgresql":
        rls.declare(session.connection(), rls_context(session))
