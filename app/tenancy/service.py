"""Tenant resolution from the Host header, and tenant administration (national admin only)."""

from __future__ import annotations

import re
import threading
import time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.errors import N_, Conflict, Invalid, NotFound
from app.core.text import nfc
from app.tenancy.models import NATIONAL_SLUG, Tenant, TenantContext

_SLUG = re.compile(r"^[a-z][a-z0-9-]{1,62}$")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
RESERVED_SLUGS = frozenset({"www", "api", "static", "admin", "mail", NATIONAL_SLUG})


def slug_from_host(host: str | None, base_domain: str) -> str | None:
    """`haiphong.example.vn` → `haiphong`; the bare domain and `www.` → `national`; anything else → None."""
    if not host:
        return None
    name = host.strip().lower().rstrip(".")
    if name.startswith("["):  # IPv6 literal: never a tenant
        return None
    name = name.rsplit(":", 1)[0] if ":" in name else name
    base = base_domain.lower().strip(".")
    if name in (base, f"www.{base}"):
        return NATIONAL_SLUG
    suffix = "." + base
    if name.endswith(suffix):
        label = name[: -len(suffix)]
        if label and "." not in label and label != NATIONAL_SLUG:
            return label
    return None


def get_by_slug(session: Session, slug: str) -> Tenant | None:
    return session.scalars(select(Tenant).where(Tenant.slug == slug)).first()


def national_tenant_id(session: Session) -> int | None:
    return session.scalar(select(Tenant.id).where(Tenant.slug == NATIONAL_SLUG))


def list_tenants(session: Session, *, limit: int = 100, offset: int = 0) -> tuple[list[Tenant], int]:
    total = session.scalar(select(func.count()).select_from(Tenant)) or 0
    rows = session.scalars(select(Tenant).order_by(Tenant.slug).limit(limit).offset(offset))
    return list(rows), total


def create_tenant(
    session: Session,
    *,
    slug: str,
    display_name: str,
    colour: str = "#0b5394",
    default_language: str = "vi",
    self_registration: bool = False,
    is_active: bool = True,
) -> Tenant:
    slug = slug.strip().lower()
    if slug != NATIONAL_SLUG and (not _SLUG.match(slug) or slug in RESERVED_SLUGS):
        raise Invalid(N_("A portal address may use lower-case letters, digits and dashes only."), code="slug")
    if not _COLOUR.match(colour):
        raise Invalid(N_("The colour must look like #0b5394."), code="colour")
    if default_language not in ("vi", "en"):
        raise Invalid(N_("Unknown language."), code="language")
    display_name = nfc(display_name)
    if not display_name:
        raise Invalid(N_("The display name is required."), code="display_name")
    if get_by_slug(session, slug) is not None:
        raise Conflict(N_("A portal with this address already exists."), code="slug_taken")
    tenant = Tenant(
        slug=slug,
        display_name=display_name,
        colour=colour,
        default_language=default_language,
        self_registration=self_registration,
        is_active=is_active,
    )
    session.add(tenant)
    session.flush()
    return tenant


def update_tenant(session: Session, slug: str, **changes: object) -> Tenant:
    tenant = get_by_slug(session, slug)
    if tenant is None:
        raise NotFound(N_("Portal not found."))
    for key, value in changes.items():
        if value is None:
            continue
        if key == "display_name":
            value = nfc(str(value))
        if key == "colour" and not _COLOUR.match(str(value)):
            raise Invalid(N_("The colour must look like #0b5394."), code="colour")
        if key == "is_active" and tenant.is_national and value is False:
            raise Invalid(N_("The national portal cannot be deactivated."))
        setattr(tenant, key, value)
    session.flush()
    return tenant


class TenantCache:
    """Host → tenant snapshots, kept for a few seconds so a page view costs no tenant query.

    Per process: a change made on one worker is seen by the others within `ttl` seconds (the worker that made
    it clears its own cache at once).
    """

    def __init__(self, ttl: float = 30.0) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[float, TenantContext, int | None]] = {}
        self._lock = threading.Lock()

    def peek(self, slug: str) -> tuple[TenantContext, int | None] | None:
        """The cached snapshot, if fresh; never touches the database."""
        entry = self._entries.get(slug)
        if entry is not None and entry[0] > time.monotonic():
            return entry[1], entry[2]
        return None

    def lookup(self, session: Session, slug: str) -> tuple[TenantContext, int | None] | None:
        now = time.monotonic()
        entry = self._entries.get(slug)
        if entry is not None and entry[0] > now:
            return entry[1], entry[2]
        tenant = get_by_slug(session, slug)
        if tenant is None or not tenant.is_active:
            with self._lock:
                self._entries.pop(slug, None)
            return None
        context = TenantContext.of(tenant)
        national_id = national_tenant_id(session)
        with self._lock:
            self._entries[slug] = (now + self.ttl, context, national_id)
        return context, national_id

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
