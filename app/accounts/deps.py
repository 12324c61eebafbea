"""Who is calling: bearer tokens for the API, the session cookie for pages, and role checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection
from starlette.types import Scope

from app.accounts.constants import NATIONAL_ADMIN, TENANT_ADMIN, TRAINER
from app.accounts.models import User
from app.accounts.signedin import check_account, check_password_current, portal_claims
from app.core.deps import AppSettings, DbSession
from app.core.errors import N_, Forbidden, Unauthorized
from app.core.security import TokenClaims
from app.core.settings import Settings
from app.core.web import AUTH_COOKIE, request_token
from app.tenancy import service as tenancy_service
from app.tenancy.deps import CurrentTenant
from app.tenancy.models import TenantContext
from app.tenancy.scoping import bind_tenant

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


class LoginRequired(Exception):
    """A page needs a signed-in user; the handler redirects to the sign-in page."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def load_user_from_token(
    session: Session, settings: Settings, tenant: TenantContext, token: str
) -> tuple[User, TokenClaims]:
    claims = portal_claims(token, tenant.id, settings)
    user = session.get(User, claims.user_id)
    check_account(user, claims)
    assert user is not None
    return user, claims


def _api_user(
    request: Request,
    session: DbSession,
    tenant: CurrentTenant,
    settings: AppSettings,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> User:
    if not token:
        raise Unauthorized(N_("Please sign in."), code="not_authenticated")
    user, claims = load_user_from_token(session, settings, tenant, token)
    request.state.user = user
    request.state.token_claims = claims
    return user


async def _api_user_strict(user: Annotated[User, Depends(_api_user)]) -> User:
    check_password_current(user)
    return user


def _page_user_optional(
    request: Request, session: DbSession, tenant: CurrentTenant, settings: AppSettings
) -> User | None:
    token = request.cookies.get(AUTH_COOKIE)
    if not token:
        return None
    try:
        user, claims = load_user_from_token(session, settings, tenant, token)
    except Unauthorized:
        return None
    request.state.user = user
    request.state.token_claims = claims
    # A snapshot for the page chrome: error pages render after the session rolled back and expired `user`.
    request.state.user_roles = tuple(user.roles)
    return user


def page_next_url(request: Request) -> str:
    """Where the sign-in page sends the learner back to: this page."""
    path = request.url.path
    return path + ("?" + request.url.query if request.url.query else "")


async def _page_user(request: Request, user: Annotated[User | None, Depends(_page_user_optional)]) -> User:
    if user is None:
        raise LoginRequired(page_next_url(request))
    return user


async def _page_user_strict(request: Request, user: Annotated[User, Depends(_page_user)]) -> User:
    check_password_current(user)
    return user


ApiUserAllowingPasswordChange = Annotated[User, Depends(_api_user)]
ApiUser = Annotated[User, Depends(_api_user_strict)]
OptionalPageUser = Annotated[User | None, Depends(_page_user_optional)]
PageUserAllowingPasswordChange = Annotated[User, Depends(_page_user)]
PageUser = Annotated[User, Depends(_page_user_strict)]


# The checks below only look at the loaded user: async, so they cost no thread hop.
def _role_checker(base: Any, roles: tuple[str, ...]) -> Callable[..., Any]:
    async def check(user: User) -> User:
        if not user.has_role(*roles):
            raise Forbidden(N_("You do not have permission to do this."), code="forbidden")
        return user

    # Real objects, not the strings `from __future__ import annotations` would leave: `base` is a local.
    check.__annotations__ = {"user": Annotated[User, Depends(base)], "return": User}
    return check


def api_role(*roles: str) -> Any:
    return Depends(_role_checker(_api_user_strict, roles))


def page_role(*roles: str) -> Any:
    return Depends(_role_checker(_page_user_strict, roles))


ApiAdmin = Annotated[User, api_role(TENANT_ADMIN, NATIONAL_ADMIN)]
ApiStaff = Annotated[User, api_role(TRAINER, TENANT_ADMIN, NATIONAL_ADMIN)]
ApiNationalAdmin = Annotated[User, api_role(NATIONAL_ADMIN)]
PageAdmin = Annotated[User, page_role(TENANT_ADMIN, NATIONAL_ADMIN)]
PageStaff = Annotated[User, page_role(TRAINER, TENANT_ADMIN, NATIONAL_ADMIN)]
PageNationalAdmin = Annotated[User, page_role(NATIONAL_ADMIN)]


async def may_upload(scope: Scope, roles: tuple[str, ...]) -> bool:
    """Whether the account signed in on this request holds one of `roles`: asked by the body limit
    (app.core.bodylimit) before an upload's body is read, in a worker thread (one primary-key read)."""
    return await run_in_threadpool(_may_upload, HTTPConnection(scope), roles)


def _may_upload(connection: HTTPConnection, roles: tuple[str, ...]) -> bool:
    app = connection.app
    settings: Settings = app.state.settings
    token = request_token(connection)
    slug = tenancy_service.slug_from_host(connection.headers.get("host"), settings.base_domain)
    if not token or slug is None:
        return False
    session: Session = app.state.session_factory()
    try:
        found = app.state.tenant_cache.peek(slug) or app.state.tenant_cache.lookup(session, slug)
        if found is None:
            return False
        tenant, national_id = found
        bind_tenant(session, tenant.id, national_tenant_id=national_id)
        user, _ = load_user_from_token(session, settings, tenant, token)
        return user.has_role(*roles) and not user.must_change_password
    except Unauthorized:
        return False
    finally:
        session.close()
