"""Plain factory functions taking the session, and a tenant-aware test client."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy.orm import Session

from app.accounts import service as accounts
from app.accounts.models import User
from app.core.security import hash_password
from app.tenancy import service as tenants
from app.tenancy.models import NATIONAL_SLUG, Tenant
from app.tenancy.scoping import bind_tenant, unbind_tenant

PASSWORD = "secret123"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@cache
def password_hash() -> str:
    # One argon2id hash for the whole run: hashing per user would make the suite slow.
    return hash_password(PASSWORD)


def make_tenant(db: Session, slug: str, name: str | None = None, **kwargs: Any) -> Tenant:
    existing = tenants.get_by_slug(db, slug)
    if existing is not None:
        return existing
    return tenants.create_tenant(db, slug=slug, display_name=name or slug.title(), **kwargs)


class in_tenant:
    """Bind the session to a tenant for the block, then expunge its rows and unbind."""

    def __init__(self, db: Session, tenant: Tenant) -> None:
        self.db = db
        self.tenant = tenant

    def __enter__(self) -> Session:
        self.db.flush()
        self.db.expunge_all()
        bind_tenant(self.db, self.tenant.id, national_tenant_id=tenants.national_tenant_id(self.db))
        return self.db

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.db.flush()
        self.db.expunge_all()
        unbind_tenant(self.db)


def make_user(
    db: Session,
    tenant: Tenant,
    username: str,
    *,
    roles: list[str] | None = None,
    full_name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    must_change_password: bool = False,
    **kwargs: Any,
) -> User:
    with in_tenant(db, tenant):
        user = accounts.create_user(
            db,
            username=username,
            full_name=full_name or username.title(),
            password=None,
            roles=roles or ["learner"],
            email=email,
            phone=phone,
            must_change_password=must_change_password,
            **kwargs,
        )
        user.password_hash = password_hash()
        db.flush()
    return user


def make_units(db: Session, tenant: Tenant, csv_text: str) -> dict[str, int]:
    """Import units from CSV text (`Mã,Tên,Loại,Mã cấp trên`) and return their ids by code."""
    from sqlalchemy import select

    from app.units import service as units
    from app.units.models import Unit

    with in_tenant(db, tenant):
        outcome = units.import_units(db, csv_text.encode(), lang="vi", dry_run=False)
        assert not outcome.errors, outcome.errors
        ids = {code: unit_id for unit_id, code in db.execute(select(Unit.id, Unit.code))}
    return ids


@dataclass
class World:
    national: Tenant
    haiphong: Tenant
    quangninh: Tenant
    users: dict[str, User] = field(default_factory=dict)


def make_world(db: Session) -> World:
    national = make_tenant(db, NATIONAL_SLUG, "Cổng quốc gia")
    haiphong = make_tenant(db, "haiphong", "Hải Phòng")
    quangninh = make_tenant(db, "quangninh", "Quảng Ninh")
    world = World(national, haiphong, quangninh)
    world.users["national_admin"] = make_user(db, national, "admin", roles=["national_admin"])
    world.users["national_trainer"] = make_user(db, national, "trainer", roles=["trainer"])
    for tenant in (haiphong, quangninh):
        world.users[f"{tenant.slug}_admin"] = make_user(db, tenant, "admin", roles=["tenant_admin"])
        world.users[f"{tenant.slug}_trainer"] = make_user(db, tenant, "trainer", roles=["trainer"])
        world.users[f"{tenant.slug}_learner"] = make_user(
            db,
            tenant,
            "learner",
            full_name="Nguyễn Văn An",
            email=f"an@{tenant.slug}.vn",
            phone="0912345678",
            target_group="civil_servant",
        )
    db.commit()
    return world


class Browser(TestClient):
    """A client on one tenant's host that can sign in by API token or by the sign-in form."""

    def __init__(self, app: Any, slug: str) -> None:
        host = "localhost" if slug == NATIONAL_SLUG else f"{slug}.localhost"
        super().__init__(app, base_url=f"http://{host}", follow_redirects=False)
        self.slug = slug
        self.token: str | None = None

    # API
    def login_api(self, username: str, password: str = PASSWORD) -> str:
        r = self.post("/api/v1/auth/token", data={"username": username, "password": password})
        assert r.status_code == 200, r.text
        self.token = r.json()["access_token"]
        return self.token

    def api(self, method: str, url: str, **kwargs: Any) -> Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return self.request(method, url, headers=headers, **kwargs)

    # Browser pages
    def csrf_from(self, url: str) -> str:
        r = self.get(url)
        match = _CSRF.search(r.text)
        assert match, f"no CSRF token on {url}: {r.status_code}"
        return match.group(1)

    def submit(
        self, page_url: str, action: str | None = None, data: dict[str, Any] | None = None, **kwargs: Any
    ) -> Response:
        """Load a page, take its CSRF token, and post a form to `action` (default: the same URL)."""
        token = self.csrf_from(page_url)
        return self.post(action or page_url, data={**(data or {}), "csrf_token": token}, **kwargs)

    def login_page(self, identifier: str, password: str = PASSWORD) -> Response:
        return self.submit("/login", data={"identifier": identifier, "password": password, "next": "/"})
