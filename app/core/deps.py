"""Request-scoped database session: one request, one session, one transaction."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from app.core.db import begin_write
from app.core.settings import Settings
from app.core.web import SAFE_METHODS


def get_db(request: Request) -> Iterator[Session]:
    session: Session = request.app.state.session_factory()
    if request.method not in SAFE_METHODS:
        begin_write(session)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


# scope="function": the commit runs before the response is sent, so a failed commit is a 500, not a lost row.
DbSession = Annotated[Session, Depends(get_db, scope="function")]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
