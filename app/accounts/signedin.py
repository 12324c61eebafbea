"""Who is signed in: the rules every request applies to a token and to the account behind it.

The ORM dependencies (`app/accounts/deps.py`) and the learning path (`app/progress/learning.py`, which
loads the account together with the learner's progress in one statement) both call these, so a token is
judged the same way whichever code answers the request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from app.accounts.constants import NATIONAL_ADMIN, TENANT_ADMIN, TRAINER
from app.core.errors import N_, PasswordChangeRequired, Unauthorized
from app.core.security import InvalidToken, TokenClaims, decode_access_token
from app.core.settings import Settings

STAFF_ROLES = (TRAINER, TENANT_ADMIN, NATIONAL_ADMIN)


class AccountLike(Protocol):
    """What the rules read of an account: the ORM `User` and `Account` both have it."""

    @property
    def id(self) -> int: ...
    @property
    def is_active(self) -> bool: ...
    @property
    def token_version(self) -> int: ...
    @property
    def must_change_password(self) -> bool: ...

    def has_role(self, *roles: str) -> bool: ...


@dataclass(frozen=True)
class Account:
    """The signed-in account as a request needs it (read in one statement with what the request is about)."""

    id: int
    roles: tuple[str, ...]
    is_active: bool
    token_version: int
    must_change_password: bool

    def has_role(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)


def portal_claims(token: str | None, tenant_id: int, settings: Settings) -> TokenClaims:
    """The token's claims when it verifies and was issued by this portal; else `Unauthorized`."""
    if not token:
        raise Unauthorized(N_("Please sign in."), code="not_authenticated")
    try:
        claims = decode_access_token(token, secret=settings.secret_key, algorithm=settings.jwt_algorithm)
    except InvalidToken as exc:
        raise Unauthorized(
            N_("Your sign-in is not valid or has expired. Please sign in again."), code="invalid_token"
        ) from exc
    if claims.tenant_id != tenant_id:
        raise Unauthorized(N_("This sign-in belongs to another portal."), code="wrong_tenant")
    return claims


def check_account(account: AccountLike | None, claims: TokenClaims) -> None:
    """The token's account exists, is active and has not revoked the token since (sign-out, password or role
    change bump `token_version`)."""
    if account is None or not account.is_active or account.token_version != claims.version:
        raise Unauthorized(
            N_("Your sign-in is not valid or has expired. Please sign in again."), code="revoked_token"
        )


def check_password_current(account: AccountLike) -> None:
    """An account with a one-time or reset password must choose its own before anything else."""
    if account.must_change_password:
        raise PasswordChangeRequired(
            N_("You must change your password before continuing."), code="password_change_required"
        )


def is_staff(account: AccountLike | None) -> bool:
    return account is not None and account.has_role(*STAFF_ROLES)
