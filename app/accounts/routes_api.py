"""Accounts API: tokens, the current user, and admin actions on accounts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.security import OAuth2PasswordRequestForm

from app.accounts import service
from app.accounts.deps import ApiAdmin, ApiUserAllowingPasswordChange
from app.accounts.schemas import (
    MeRead,
    PasswordChange,
    RolesUpdate,
    TemporaryPasswordRead,
    TokenRead,
    UserCreate,
    UserList,
    UserRead,
)
from app.accounts.signin import issue_token, sign_in
from app.audit import service as audit
from app.core.deps import AppSettings, DbSession, client_address, manual_write
from app.core.errors import DomainError
from app.core.numbers import MAX_ID
from app.tenancy.deps import CurrentTenant

router = APIRouter(prefix="/api/v1", tags=["accounts"])


@router.post("/auth/token", response_model=TokenRead, name="api:token")
@manual_write
def token(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: DbSession,
    tenant: CurrentTenant,
    settings: AppSettings,
) -> TokenRead:
    """Sign in with a username, email or phone number (OAuth2 password flow)."""
    try:
        user = sign_in(request, session, settings, form.username, form.password)
    except DomainError:
        session.commit()  # keep the audit record of the failed attempt
        raise
    access, expires_in = issue_token(settings, tenant, user.id, user.token_version)
    return TokenRead(
        access_token=access, expires_in=expires_in, must_change_password=user.must_change_password
    )


@router.post("/auth/logout", status_code=204, name="api:logout")
def logout(request: Request, session: DbSession, user: ApiUserAllowingPasswordChange) -> None:
    """Revoke every token of the current account."""
    service.sign_out(session, user, client_address=client_address(request))


@router.get("/me", response_model=MeRead, name="api:me")
def me(user: ApiUserAllowingPasswordChange, tenant: CurrentTenant) -> MeRead:
    return MeRead(**UserRead.model_validate(user).model_dump(), tenant=tenant.slug)


@router.post("/me/password", response_model=TokenRead, name="api:me_password")
def change_my_password(
    request: Request,
    body: PasswordChange,
    session: DbSession,
    tenant: CurrentTenant,
    settings: AppSettings,
    user: ApiUserAllowingPasswordChange,
) -> TokenRead:
    """Change the password; earlier tokens stop working and a new one is returned."""
    service.change_password(
        session,
        user,
        current_password=body.current_password,
        new_password=body.new_password,
        min_length=settings.password_min_length,
        client_address=client_address(request),
        secret_key=settings.secret_key,
    )
    access, expires_in = issue_token(settings, tenant, user.id, user.token_version)
    return TokenRead(access_token=access, expires_in=expires_in)


@router.get("/users", response_model=UserList, name="api:users")
def list_users(
    session: DbSession,
    admin: ApiAdmin,
    q: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> UserList:
    users, total = service.list_users(session, q=q, limit=limit, offset=offset)
    return UserList(items=[UserRead.model_validate(u) for u in users], total=total)


@router.post("/users", response_model=UserRead, status_code=201, name="api:users_create")
def create_user(
    request: Request, body: UserCreate, session: DbSession, admin: ApiAdmin, settings: AppSettings
) -> UserRead:
    service.check_rank(admin, grants=service.clean_roles(body.roles))
    user = service.create_user(
        session,
        username=body.username,
        full_name=body.full_name,
        password=body.password,
        roles=body.roles,
        email=body.email,
        phone=body.phone,
        position=body.position,
        target_group=body.target_group,
        must_change_password=True,
        password_min_length=settings.password_min_length,
    )
    audit.record(
        session,
        "admin.account_created",
        actor_id=admin.id,
        target=f"user:{user.id}",
        client_address=client_address(request),
    )
    return UserRead.model_validate(user)


@router.get("/users/{user_id}", response_model=UserRead, name="api:user")
def get_user(user_id: int, session: DbSession, admin: ApiAdmin) -> UserRead:
    return UserRead.model_validate(service.get_user(session, user_id))


@router.post("/users/{user_id}/reset-password", response_model=TemporaryPasswordRead, name="api:user_reset")
def reset_password(
    request: Request, user_id: int, session: DbSession, admin: ApiAdmin
) -> TemporaryPasswordRead:
    """Set a random temporary password, shown once; the account must change it at next sign-in."""
    user, temporary = service.admin_reset_password(
        session, admin, user_id, client_address=client_address(request)
    )
    return TemporaryPasswordRead(user=UserRead.model_validate(user), temporary_password=temporary)


@router.post("/users/{user_id}/deactivate", response_model=UserRead, name="api:user_deactivate")
def deactivate(request: Request, user_id: int, session: DbSession, admin: ApiAdmin) -> UserRead:
    return UserRead.model_validate(
        service.set_active(session, admin, user_id, False, client_address=client_address(request))
    )


@router.post("/users/{user_id}/activate", response_model=UserRead, name="api:user_activate")
def activate(request: Request, user_id: int, session: DbSession, admin: ApiAdmin) -> UserRead:
    return UserRead.model_validate(
        service.set_active(session, admin, user_id, True, client_address=client_address(request))
    )


@router.put("/users/{user_id}/roles", response_model=UserRead, name="api:user_roles")
def set_roles(
    request: Request, user_id: int, body: RolesUpdate, session: DbSession, admin: ApiAdmin
) -> UserRead:
    return UserRead.model_validate(
        service.set_roles(session, admin, user_id, body.roles, client_address=client_address(request))
    )
