"""Accounts: creation, sign-in with throttling, password changes, admin reset and deactivation."""

from __future__ import annotations

import datetime as dt
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.accounts.constants import ADMIN_ROLES, GENDERS, LEARNER, ROLE_RANK, ROLES, TARGET_GROUPS
from app.accounts.models import User
from app.accounts.throttle import FailureCounter
from app.audit import service as audit
from app.core.db import utcnow
from app.core.errors import N_, Conflict, Forbidden, Invalid, NotFound, TooManyRequests, Unauthorized
from app.core.security import hash_password, keyed_hash, password_needs_rehash, verify_password
from app.core.text import (
    fold,
    looks_like_phone,
    nfc,
    normalise_tones,
    normalize_email,
    normalize_phone,
    normalize_username,
)

_HAS_LETTER = re.compile(r"[^\W\d_]")
_HAS_DIGIT = re.compile(r"\d")


@dataclass(frozen=True)
class ThrottlePolicy:
    window_seconds: int
    max_per_account: int
    max_per_address: int


def canonical_email(value: str) -> str:
    """The one form an email address is stored and compared in; raises EmailNotValidError.

    Internationalised addresses are accepted (`hà.lt@haiphong.gov.vn`, a domain in Vietnamese or as
    `xn--…`): email-validator checks them (RFC 6531/IDNA 2008). Stored lower-case, NFC, the domain in
    Unicode, and the local part's tone marks placed by one rule (`hoà.lt` = `hòa.lt`: both are typed for the
    same person). OneTouch sends no email: the address identifies a person at sign-in and in imports.
    """
    result = validate_email(normalize_email(value), check_deliverability=False)
    local, _, domain = result.normalized.rpartition("@")
    return f"{normalise_tones(local).lower()}@{domain.lower()}"


def clean_email(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    try:
        return canonical_email(value)
    except EmailNotValidError as exc:
        raise Invalid(N_("The email address is not valid."), code="email") from exc


def clean_phone(value: str | None) -> str | None:
    if value is None or not str(value).strip():
        return None
    try:
        return normalize_phone(str(value))
    except ValueError as exc:
        raise Invalid(
            N_("The phone number is not a valid Vietnamese mobile number (10 digits, e.g. 0912345678)."),
            code="phone",
        ) from exc


def clean_username(value: str) -> str:
    try:
        return normalize_username(value)
    except ValueError as exc:
        raise Invalid(
            N_("A username has 2–64 characters: letters without accents, digits, dot, dash or underscore."),
            code="username",
        ) from exc


def check_password_policy(password: str, *, min_length: int, username: str | None = None) -> None:
    if len(password) < min_length:
        raise Invalid(N_("The password must have at least {n} characters."), code="password", n=min_length)
    if not (_HAS_LETTER.search(password) and _HAS_DIGIT.search(password)):
        raise Invalid(N_("The password must contain both letters and digits."), code="password")
    if username and fold(password) == fold(username):
        raise Invalid(N_("The password must not be the same as the username."), code="password")


def clean_roles(roles: list[str] | None) -> list[str]:
    roles = sorted(set(roles or [LEARNER]))
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise Invalid(N_("Unknown role: {role}."), code="role", role=", ".join(unknown))
    return roles


def clean_target_group(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    if value not in TARGET_GROUPS:
        raise Invalid(N_("Unknown target group: {group}."), code="group", group=value)
    return value


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(N_("Account not found."))
    return user


IN_LIST_CHUNK = 5000  # keeps IN lists well under SQLite's bound-parameter limit


def ids_by_username(
    session: Session, usernames: Iterable[str], *, active_only: bool = False
) -> dict[str, int]:
    """Account ids of this tenant by (already normalised) username, a few thousand names per query."""
    names = sorted(set(usernames))
    found: dict[str, int] = {}
    for start in range(0, len(names), IN_LIST_CHUNK):
        stmt = select(User.username, User.id).where(User.username.in_(names[start : start + IN_LIST_CHUNK]))
        if active_only:
            stmt = stmt.where(User.is_active)
        found.update(session.execute(stmt).all())
    return found


def find_by_identifier(session: Session, identifier: str) -> User | None:
    """A username, an email address or a phone number, in the session's tenant."""
    identifier = nfc(identifier)
    if not identifier:
        return None
    if "@" in identifier:
        try:
            email = canonical_email(identifier)
        except EmailNotValidError:
            email = normalize_email(identifier)  # no account has an invalid address: nothing matches
        return session.scalars(select(User).where(User.email == email)).first()
    if looks_like_phone(identifier):
        try:
            phone = normalize_phone(identifier)
        except ValueError:
            phone = None
        if phone:
            user = session.scalars(select(User).where(User.phone == phone)).first()
            if user is not None:
                return user
    try:
        username = normalize_username(identifier)
    except ValueError:
        return None
    return session.scalars(select(User).where(User.username == username)).first()


def create_user(
    session: Session,
    *,
    username: str,
    full_name: str,
    password: str | None,
    roles: list[str] | None = None,
    email: str | None = None,
    phone: str | None = None,
    position: str | None = None,
    target_group: str | None = None,
    gender: str | None = None,
    date_of_birth: dt.date | None = None,
    must_change_password: bool = False,
    password_min_length: int = 8,
) -> User:
    username = clean_username(username)
    full_name = nfc(full_name)
    if not full_name:
        raise Invalid(N_("The full name is required."), code="full_name")
    email = clean_email(email)
    phone = clean_phone(phone)
    if gender is not None and gender not in GENDERS:
        raise Invalid(N_("Unknown gender."), code="gender")
    if password is not None:
        check_password_policy(password, min_length=password_min_length, username=username)
    _ensure_unique(session, username=username, email=email, phone=phone)
    user = User(
        username=username,
        full_name=full_name,
        name_folded=fold(full_name),
        email=email,
        phone=phone,
        position=nfc(position) if position else None,
        target_group=clean_target_group(target_group),
        gender=gender,
        date_of_birth=date_of_birth,
        roles=clean_roles(roles),
        password_hash=hash_password(password) if password is not None else None,
        must_change_password=must_change_password,
    )
    session.add(user)
    session.flush()
    return user


def _ensure_unique(
    session: Session, *, username: str, email: str | None, phone: str | None, exclude_id: int | None = None
) -> None:
    clauses = [User.username == username]
    if email:
        clauses.append(User.email == email)
    if phone:
        clauses.append(User.phone == phone)
    stmt = select(User).where(or_(*clauses))
    if exclude_id is not None:
        stmt = stmt.where(User.id != exclude_id)
    for other in session.scalars(stmt):
        if other.username == username:
            raise Conflict(N_("This username is already taken."), code="username_taken")
        if email and other.email == email:
            raise Conflict(N_("This email address is already used by another account."), code="email_taken")
        raise Conflict(N_("This phone number is already used by another account."), code="phone_taken")


# The unambiguous alphabet of printed one-time passwords (no 0/O, 1/l/I): 31 symbols, ~4.95 bits each.
INITIAL_SECRET_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # noqa: S105 - an alphabet, not a secret
INITIAL_SECRET_LENGTH = 12  # 12 × 4.95 ≈ 59 bits


def generate_initial_secret() -> str:
    """A random one-time password for a bulk-created account (≈ 59 bits), easy to read off a slip."""
    while True:
        candidate = "".join(secrets.choice(INITIAL_SECRET_ALPHABET) for _ in range(INITIAL_SECRET_LENGTH))
        if _HAS_LETTER.search(candidate) and _HAS_DIGIT.search(candidate):
            return candidate


def initial_secret_hash(secret_key: str, secret: str) -> str:
    """The stored form of a one-time password: HMAC-SHA256 keyed with SECRET_KEY (fast, but useless
    without the key; safe because the secret itself is random and high-entropy)."""
    return keyed_hash(secret_key, "initial-password|" + secret)


def _initial_secret_state(user: User, password: str, secret_key: str | None) -> str | None:
    """`valid`, `expired` or None (no one-time password, or not this one)."""
    if not secret_key or not user.initial_secret_hash or not password:
        return None
    if not hmac.compare_digest(user.initial_secret_hash, initial_secret_hash(secret_key, password)):
        return None
    expires = user.initial_secret_expires_at
    if expires is None or expires <= utcnow():
        return "expired"
    return "valid"


@dataclass(frozen=True)
class PasswordCheck:
    """An argon2 verification done before the write transaction (see `app/accounts/signin.sign_in`)."""

    user_id: int | None
    password_hash: str | None
    ok: bool


def _throttle_keys(
    session: Session, identifier: str, user: User | None, client_address: str
) -> tuple[str, str]:
    tenant_key = session.info.get("tenant_id")
    # Per address across every portal: one address guessing on 34 portals gets one allowance, not 34.
    address_key = f"login:addr:{client_address}"
    # Failures count against the account whichever of its identifiers was typed.
    account_key = f"login:acct:{tenant_key}:" + (f"id{user.id}" if user else fold(nfc(identifier)))
    return address_key, account_key


def _throttle_state(
    counter: FailureCounter, policy: ThrottlePolicy, address_key: str, account_key: str
) -> int | None:
    """Seconds to wait when either key is over its limit, else None."""
    for key, limit in ((address_key, policy.max_per_address), (account_key, policy.max_per_account)):
        count, retry_after = counter.failures(key, policy.window_seconds)
        if count >= limit:
            return retry_after
    return None


def check_password(
    session: Session,
    *,
    identifier: str,
    password: str,
    client_address: str,
    counter: FailureCounter,
    policy: ThrottlePolicy,
) -> PasswordCheck:
    """The slow part of a sign-in (argon2id, ~0.1 s of CPU), reading only: run it before taking a write lock.

    On SQLite a sign-in that verified the password inside its write transaction held the database's only
    write lock for the whole hash, so every lesson completion queued behind a burst of sign-ins. A throttled
    attempt skips the hash (authenticate refuses it anyway).
    """
    user = find_by_identifier(session, identifier)
    if _throttle_state(counter, policy, *_throttle_keys(session, identifier, user, client_address)):
        return PasswordCheck(
            -1, None, False
        )  # matches no account: authenticate decides (and verifies) itself
    password_hash = user.password_hash if user else None
    return PasswordCheck(user.id if user else None, password_hash, verify_password(password_hash, password))


def authenticate(
    session: Session,
    *,
    identifier: str,
    password: str,
    client_address: str,
    counter: FailureCounter,
    policy: ThrottlePolicy,
    secret_key: str | None = None,
    checked: PasswordCheck | None = None,
) -> User:
    """Check a sign-in. Failures are counted per account and per client address and throttled.

    `checked` is the result of `check_password` for the same attempt: used only when it was made against
    the very account and hash read now, else the password is verified again.
    """
    user = find_by_identifier(session, identifier)
    address_key, account_key = _throttle_keys(session, identifier, user, client_address)
    retry_after = _throttle_state(counter, policy, address_key, account_key)
    if retry_after is not None:
        raise TooManyRequests(
            N_("Too many failed sign-in attempts. Please try again in {minutes} minutes."),
            retry_after=retry_after,
            minutes=max(1, (retry_after + 59) // 60),
        )
    # argon2 runs for every attempt (a dummy hash when there is none), so timing tells nothing.
    same = checked is not None and (checked.user_id, checked.password_hash) == (
        (user.id, user.password_hash) if user else (None, None)
    )
    if checked is not None and same:
        ok = checked.ok
    else:
        ok = verify_password(user.password_hash if user else None, password)
    initial = None if ok or user is None else _initial_secret_state(user, password, secret_key)
    ok = ok or initial == "valid"
    if not ok or user is None or not user.is_active:
        counter.add_failure(address_key, policy.window_seconds)
        counter.add_failure(account_key, policy.window_seconds)
        if user is not None:
            audit.record(
                session,
                "auth.sign_in_failed",
                actor_id=user.id,
                target=f"user:{user.id}",
                client_address=client_address,
            )
        if ok and user is not None and not user.is_active:
            raise Unauthorized(
                N_("This account has been deactivated. Please contact your administrator."), code="inactive"
            )
        if initial == "expired":
            raise Unauthorized(
                N_("This one-time password has expired. Please ask your administrator for a new one."),
                code="initial_password_expired",
            )
        raise Unauthorized(N_("Wrong username, email, phone number or password."), code="bad_credentials")
    counter.clear(account_key)
    if user.password_hash and password_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    audit.record(
        session, "auth.sign_in", actor_id=user.id, target=f"user:{user.id}", client_address=client_address
    )
    return user


def change_password(
    session: Session,
    user: User,
    *,
    current_password: str,
    new_password: str,
    min_length: int,
    client_address: str | None = None,
    secret_key: str | None = None,
) -> User:
    """Change the password. While a one-time password is pending it counts as the current password."""
    if not verify_password(user.password_hash, current_password) and (
        _initial_secret_state(user, current_password, secret_key) != "valid"
    ):
        raise Invalid(N_("The current password is wrong."), code="current_password")
    if current_password == new_password:
        raise Invalid(N_("The new password must differ from the current one."), code="password")
    check_password_policy(new_password, min_length=min_length, username=user.username)
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    user.initial_secret_hash = None
    user.initial_secret_expires_at = None
    user.token_version += 1
    audit.record(
        session,
        "account.password_changed",
        actor_id=user.id,
        target=f"user:{user.id}",
        client_address=client_address,
    )
    session.flush()
    return user


def sign_out(session: Session, user: User, *, client_address: str | None = None) -> None:
    """Revoke every token issued so far for this account (signing out signs out all devices)."""
    user.token_version += 1
    audit.record(
        session, "auth.sign_out", actor_id=user.id, target=f"user:{user.id}", client_address=client_address
    )
    session.flush()


def rank_of(roles: Iterable[str]) -> int:
    """The rank of an account: that of its highest role (a learner's is 0)."""
    return max((ROLE_RANK.get(role, 0) for role in roles), default=0)


def check_rank(admin: User, target: User | None = None, *, grants: Iterable[str] = ()) -> None:
    """The one rule of every administrator's action on an account: the account's rank is not above the
    administrator's own, and no role granted is either. Equal rank is allowed: a province's administrators
    manage each other (one leaves, another deactivates them); only a national administrator touches a
    national administrator's account or makes one."""
    mine = rank_of(admin.roles)
    if not admin.has_role(*ADMIN_ROLES):
        raise Forbidden(N_("You do not have permission to do this."), code="forbidden")
    if target is not None and rank_of(target.roles) > mine:
        raise Forbidden(
            N_("You cannot change the account of someone whose role is above yours."), code="rank"
        )
    if rank_of(grants) > mine:
        raise Forbidden(N_("You cannot grant a role above your own."), code="rank")


def admin_reset_password(
    session: Session, admin: User, user_id: int, *, client_address: str | None = None
) -> tuple[User, str]:
    """Give the account a new random temporary password that must be changed at next sign-in."""
    user = get_user(session, user_id)
    check_rank(admin, user)
    temporary = generate_temporary_password()
    user.password_hash = hash_password(temporary)
    user.must_change_password = True
    user.initial_secret_hash = None  # a printed slip stops working once the admin has reset the password
    user.initial_secret_expires_at = None
    user.token_version += 1
    audit.record(
        session,
        "admin.password_reset",
        actor_id=admin.id,
        target=f"user:{user.id}",
        client_address=client_address,
    )
    session.flush()
    return user, temporary


def set_active(
    session: Session, admin: User, user_id: int, active: bool, *, client_address: str | None = None
) -> User:
    user = get_user(session, user_id)
    if user.id == admin.id and not active:
        raise Invalid(N_("You cannot deactivate your own account."))
    check_rank(admin, user)
    user.is_active = active
    if not active:
        user.token_version += 1
    audit.record(
        session,
        "admin.account_activated" if active else "admin.account_deactivated",
        actor_id=admin.id,
        target=f"user:{user.id}",
        client_address=client_address,
    )
    session.flush()
    return user


def set_roles(
    session: Session, admin: User, user_id: int, roles: list[str], *, client_address: str | None = None
) -> User:
    user = get_user(session, user_id)
    roles = clean_roles(roles)
    check_rank(admin, user, grants=roles)
    if user.id == admin.id and rank_of(roles) < rank_of(admin.roles):
        # The last administrator of a portal would lock everyone out; another administrator can do it.
        raise Invalid(N_("You cannot lower your own role."), code="own_role")
    before = list(user.roles)
    user.roles = roles
    user.token_version += 1
    audit.record(
        session,
        "admin.roles_changed",
        actor_id=admin.id,
        target=f"user:{user.id}",
        client_address=client_address,
        detail={"before": before, "after": roles},
    )
    session.flush()
    return user


def list_users(
    session: Session, *, q: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[User], int]:
    stmt = select(User)
    if q:
        # `%` and `_` typed in a search are the characters themselves, not wildcards.
        needle = fold(q)
        stmt = stmt.where(
            or_(
                User.name_folded.contains(needle, autoescape=True),
                User.username.contains(needle, autoescape=True),
                User.email.contains(needle, autoescape=True),
                User.phone.contains(needle, autoescape=True),
            )
        )
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    users = session.scalars(stmt.order_by(User.name_folded, User.id).limit(limit).offset(offset))
    return list(users), total


def generate_temporary_password() -> str:
    """A random password that is easy to read off a printed slip: no 0/O, 1/l/I."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(10))
        if _HAS_LETTER.search(candidate) and _HAS_DIGIT.search(candidate):
            return candidate
