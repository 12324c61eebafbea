"""Request-scoped database session: one request, one session, one transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any, TypeVar

import anyio
import anyio.to_thread
from anyio import CancelScope, CapacityLimiter
from fastapi import Depends, Request
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.core.db import begin_write
from app.core.errors import N_, Invalid
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


# Every id column is `Integer` in the migrations: INTEGER on PostgreSQL (32-bit, to 2^31 - 1), and on SQLite
# an INTEGER PRIMARY KEY (64-bit). The smaller bound holds on both: no row has a larger id, PostgreSQL
# refuses a larger parameter for an INTEGER column (DataError), and SQLite's driver one past 2^63 - 1.
MAX_DB_INTEGER = 2**31 - 1
_MAX_DIGITS = len(str(MAX_DB_INTEGER))


async def ids_in_range(request: Request) -> None:
    """Refuse an id in the path that no row can have (`/cohorts/2147483648`) before the database sees it:
    the same clear 422 on both databases, and no driver error in the middle of a transaction."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    # The path parameters the route declares as `int` are its ids; a slug or a code made of digits is not one.
    for param in route.dependant.path_params:
        value = request.path_params.get(param.name) if param.field_info.annotation is int else None
        if (
            isinstance(value, str)
            and len(value) >= _MAX_DIGITS
            and value.isdigit()
            and int(value) > MAX_DB_INTEGER
        ):
            raise Invalid(N_("A number in the request is out of range."), code="out_of_range")


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
