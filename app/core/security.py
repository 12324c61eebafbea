"""Password hashing (argon2id), JWTs (HS256, pinned on decode) and CSRF tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
import threading
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from jose import JWTError, jwt

# argon2id with OWASP's recommended configuration (m=19 MiB, t=2, p=1; Password Storage Cheat Sheet). The
# argon2-cffi default (RFC 9106's low-memory profile, m=64 MiB, t=3, p=4) took ~0.2 s of CPU per sign-in on a
# two-core server, 5x this: a contest-day burst of 200 sign-ins then queued for 40 s. Hashes made with other
# parameters still verify, and are re-hashed with these at the next sign-in (`password_needs_rehash`).
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# A hash to verify against when the account does not exist, so timing does not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


# Each argon2id computation takes 19 MiB and ~40 ms of CPU. More at once than there are cores is no faster,
# and a burst of sign-ins on 16 request slots per worker would take 300 MiB: queue them instead.
_HASH_SLOTS = threading.BoundedSemaphore(max(2, os.cpu_count() or 2))


def hash_password(password: str) -> str:
    with _HASH_SLOTS:
        return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        with _HASH_SLOTS:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    tenant_id: int
    version: int
    jti: str
    expires_at: dt.datetime


def create_access_token(
    *, secret: str, algorithm: str, user_id: int, tenant_id: int, version: int, ttl_minutes: int
) -> tuple[str, TokenClaims]:
    now = dt.datetime.now(dt.UTC)
    expires = now + dt.timedelta(minutes=ttl_minutes)
    jti = secrets.token_urlsafe(12)
    payload: dict[str, Any] = {
        "sub": str(user_id),
        "tid": tenant_id,
        "ver": version,
        "jti": jti,
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
    }
    token = jwt.encode(payload, secret, algorithm=algorithm)
    return token, TokenClaims(user_id, tenant_id, version, jti, expires)


class InvalidToken(Exception):
    pass


# Verified tokens, so a page view does not verify the same signature twice (user check, CSRF binding) nor on
# every request (python-jose takes ~80 µs). Only tokens whose signature verified are kept, keyed by the
# secret and algorithm too; expiry is checked on every use. Revocation is not decided here: the caller
# compares the token's version with the account's (app/accounts/deps.py).
_VERIFIED: dict[tuple[str, str, str], TokenClaims] = {}
_VERIFIED_MAX = 20_000
_verified_lock = threading.Lock()


def decode_access_token(token: str, *, secret: str, algorithm: str) -> TokenClaims:
    """Decode and verify; only the configured algorithm is accepted (never `none`, never RS/HS confusion)."""
    key = (secret, algorithm, token)
    claims = _VERIFIED.get(key)
    if claims is None:
        claims = _decode(token, secret=secret, algorithm=algorithm)
        with _verified_lock:
            if len(_VERIFIED) >= _VERIFIED_MAX:
                _VERIFIED.clear()
            _VERIFIED[key] = claims
    if claims.expires_at <= dt.datetime.now(dt.UTC):
        with _verified_lock:
            _VERIFIED.pop(key, None)
        raise InvalidToken("token expired")
    return claims


def _decode(token: str, *, secret: str, algorithm: str) -> TokenClaims:
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != algorithm:
            raise InvalidToken("unexpected algorithm")
        payload = jwt.decode(token, secret, algorithms=[algorithm], options={"require_exp": True})
        return TokenClaims(
            user_id=int(payload["sub"]),
            tenant_id=int(payload["tid"]),
            version=int(payload["ver"]),
            jti=str(payload["jti"]),
            expires_at=dt.datetime.fromtimestamp(int(payload["exp"]), dt.UTC),
        )
    except (JWTError, KeyError, ValueError, TypeError) as exc:
        raise InvalidToken(str(exc)) from exc


def csrf_token_for(secret: str, binding: str) -> str:
    """The CSRF token for a browser session: an HMAC of the session's binding value (never stored)."""
    return hmac.new(secret.encode(), f"csrf|{binding}".encode(), hashlib.sha256).hexdigest()


def csrf_token_valid(secret: str, binding: str, presented: str | None) -> bool:
    if not presented or not binding:
        return False
    return hmac.compare_digest(csrf_token_for(secret, binding), presented)


def keyed_hash(secret: str, value: str) -> str:
    """HMAC-SHA256 of a high-entropy secret, for one-time secrets that do not need a slow hash."""
    return hmac.new(secret.encode(), value.encode(), hashlib.sha256).hexdigest()
