"""Request-scoped database session: one request, one session, one transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any, TypeVar

import anyio
import anyio.to_thread
from anyio import CancelScope, CapacityLimiter
from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.core.db import begin_write
from app.core.errors import N_, Invalid
from app.core.numbers import MAX_ID, looks_like_number, parse_int
from app.core.settings import Settings
from app.core.web import SAFE_METHODS

F = TypeVar("F", bound=Any)


async def get_db(request: Request) -> AsyncIterator[Session]:
    """The request's session; committed (or rolled back) and closed before the response is sent.

    Async on purpose: creating a session does no I/O, so only the blocking parts (taking the SQLite write
    lock, commit + close) go to a worker thread, one hop each, instead of a hop to enter and one to leave
    for a sync generator. Commit and close run shielded from cancellation and without waiting for a thread
    token (a disconnecting client must not leak a connection; a full thread pool must not stall a commit).
    """
    session: Session = request.app.state.session_factory()
    try:
        manual = getattr(request.scope.get("endpoint"), "__manual_write__", False)
        if request.method not in SAFE_METHODS and not manual:
            await run_in_threadpool(begin_write, session)
        yield session
    except BaseException:
        with CancelScope(shield=True):
            await anyio.to_thread.run_sync(_rollback_and_close, session, limiter=CapacityLimiter(1))
        raise
    with CancelScope(shield=True):
        await anyio.to_thread.run_sync(_commit_and_close, session, limiter=CapacityLimiter(1))


def manual_write(endpoint: F) -> F:
    """Mark a POST endpoint that takes the write lock itself (`begin_write`) after slow read-only work.

    Sign-in verifies an argon2id hash (~0.1 s of CPU): inside an up-front SQLite write transaction that held
    the database's only write lock, so a burst of sign-ins stalled every lesson completion behind it.
    """
    endpoint.__manual_write__ = True  # type: ignore[attr-defined]
    return endpoint


def _commit_and_close(session: Session) -> None:
    try:
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _rollback_and_close(session: Session) -> None:
    try:
        session.rollback()
    finally:
        session.close()


async def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


# scope="function": the commit runs before the response is sent, so a failed commit is a 500, not a lost row.
DbSession = Annotated[Session, Depends(get_db, scope="function")]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]


def _int_path_params(route: Any) -> frozenset[str]:
    """Names of the route's path parameters declared as `int` (cached on the route: read once)."""
    names = getattr(route, "_int_path_params", None)
    if names is None:
        dependant = getattr(route, "dependant", None)
        params = dependant.path_params if dependant is not None else []
        names = frozenset(p.name for p in params if p.field_info.annotation is int)
        route._int_path_params = names
    return names  # type: ignore[no-any-return]


async def ids_in_range(request: Request) -> None:
    """Every `int` path parameter goes through the one integer parser before FastAPI or the database sees it:
    `/cohorts/9223372036854775808` is a clear 422 (no driver error mid-transaction), `/users/²²…` too."""
    for name in _int_path_params(request.scope.get("route")):
        value = request.path_params.get(name)
        if value is None or parse_int(value, minimum=0, maximum=MAX_ID) is not None:
            continue
        if looks_like_number(str(value)):
            raise Invalid(N_("A number in the request is out of range."), code="out_of_range")
        raise Invalid(N_("The address has a number that is not valid."), code="not_a_number")


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
