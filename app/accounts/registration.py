"""Citizens registering themselves where the portal allows it, with a username made from their name."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.accounts import service
from app.accounts.constants import LEARNER
from app.accounts.models import User
from app.accounts.throttle import FailureCounter
from app.accounts.usernames import username_base
from app.audit import service as audit
from app.core.collation import sort_key
from app.core.errors import N_, Conflict, Invalid, TooManyRequests
from app.core.security import hash_password
from app.core.text import nfc
from app.units.models import Unit

CITIZEN = "citizen"
RESIDENCE_KIND = "commune"
_ATTEMPTS = 5


@dataclass(frozen=True)
class RegistrationThrottle:
    """Registrations per client address (every portal together), counted like failed sign-ins
    (app.accounts.throttle: in memory, or Redis shared by every worker when configured)."""

    counter: FailureCounter
    window_seconds: int
    max_per_address: int


class ContactUnavailable(Conflict):
    """The phone number or email cannot take a new account. Said without saying why: "already used" told
    anyone which numbers and addresses have accounts."""


def check_throttle(throttle: RegistrationThrottle, client_address: str) -> None:
    """Count this attempt; refuse it when the address has made too many in the window."""
    key = f"register:addr:{client_address}"
    count, retry_after = throttle.counter.failures(key, throttle.window_seconds)
    if count >= throttle.max_per_address:
        raise TooManyRequests(
            N_("Too many accounts were created from this connection. Please try again in {minutes} minutes."),
            retry_after=retry_after,
            minutes=max(1, (retry_after + 59) // 60),
        )
    throttle.counter.add_failure(key, throttle.window_seconds)


def residence_units(session: Session) -> list[Unit]:
    """Where a citizen may say they live: the portal's communes and wards, sorted by name."""
    units = session.scalars(select(Unit).where(Unit.kind == RESIDENCE_KIND)).all()
    return sorted(units, key=lambda u: sort_key(u.name))


def unique_username(session: Session, base: str) -> str:
    """`base`, else `base2`, `base3`… — the first not taken in this tenant."""
    taken = set(session.scalars(select(User.username).where(User.username.startswith(base, autoescape=True))))
    if base not in taken:
        return base
    n = 2
    while f"{base}{n}" in taken:
        n += 1
    return f"{base}{n}"


def register_citizen(
    session: Session,
    *,
    full_name: str,
    contact: str,
    password: str,
    password_min_length: int = 8,
    client_address: str | None = None,
    unit_id: int | None = None,
) -> User:
    """A learner account (target group: citizen) from a name, a phone number or email, and a password."""
    contact = nfc(contact or "")
    if not contact:
        raise Invalid(N_("Enter a phone number or an email address."), code="contact")
    email, phone = (contact, None) if "@" in contact else (None, contact)
    if unit_id is not None and unit_id not in {u.id for u in residence_units(session)}:
        raise Invalid(N_("Choose your commune or ward from the list."), code="unit")
    base = username_base(full_name)
    for _ in range(_ATTEMPTS):
        username = unique_username(session, base)
        try:
            with session.begin_nested():
                user = service.create_user(
                    session,
                    username=username,
                    full_name=full_name,
                    password=password,
                    roles=[LEARNER],
                    email=email,
                    phone=phone,
                    target_group=CITIZEN,
                    password_min_length=password_min_length,
                )
        except IntegrityError:
            continue  # someone took the same username a moment ago: try the next one
        except Conflict as exc:
            if exc.code == "username_taken":
                continue
            hash_password(password)  # as long as a registration that succeeds: timing tells nothing either
            raise ContactUnavailable(
                N_(
                    "No account can be created with these details. If you already have an account, sign in;"
                    " your portal's administrator can reset a forgotten password."
                ),
                code="contact_unavailable",
            ) from None
        user.unit_id = unit_id
        audit.record(
            session,
            "account.self_registered",
            actor_id=user.id,
            target=f"user:{user.id}",
            client_address=client_address,
        )
        return user
    raise Conflict(N_("Please try again in a moment."), code="username_busy")
