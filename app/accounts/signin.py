"""Signing in, for the token API and the sign-in page alike: the password checked before the write lock is
taken, the sign-in recorded, and the JWT issued for the portal."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.orm import Session

from app.accounts import service
from app.accounts.models import User
from app.core.db import begin_write
from app.core.deps import client_address
from app.core.security import create_access_token
from app.core.settings import Settings
from app.tenancy.models import TenantContext


def issue_token(settings: Settings, tenant: TenantContext, user_id: int, version: int) -> tuple[str, int]:
    token, _ = create_access_token(
        secret=settings.secret_key,
        algorithm=settings.jwt_algorithm,
        user_id=user_id,
        tenant_id=tenant.id,
        version=version,
        ttl_minutes=settings.token_ttl_minutes,
    )
    return token, settings.token_ttl_minutes * 60


def throttle_policy(settings: Settings) -> service.ThrottlePolicy:
    return service.ThrottlePolicy(
        settings.login_window_seconds,
        settings.login_max_failures_per_account,
        settings.login_max_failures_per_address,
    )


def sign_in(request: Request, session: Session, settings: Settings, identifier: str, password: str) -> User:
    """Verify the password (argon2id) before taking the write lock, then record the sign-in.

    The endpoint must be marked `@manual_write`: on SQLite, verifying inside the write transaction
    held the database's only write lock for ~0.1 s per sign-in, and a burst of sign-ins stalled every
    lesson completion behind it.
    """
    counter = request.app.state.failure_counter
    policy = throttle_policy(settings)
    address = client_address(request)
    checked = service.check_password(
        session,
        identifier=identifier,
        password=password,
        client_address=address,
        counter=counter,
        policy=policy,
    )
    session.commit()  # end the read transaction: nothing was written
    session.expire_all()  # authenticate reads the account again, as it is now
    begin_write(session)
    return service.authenticate(
        session,
        identifier=identifier,
        password=password,
        client_address=address,
        counter=counter,
        policy=policy,
        secret_key=settings.secret_key,
        checked=checked,
    )
