"""The national admin's portal page: list the portals and create one (a CSRF-protected form)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from app.audit.models import AuditEvent
from app.tenancy.scoping import cross_tenant
from tests import factories
from tests.factories import Browser


def test_the_national_admin_lists_and_creates_portals(
    db: Any, world: factories.World, make_client: Callable[..., Browser]
) -> None:
    c = make_client("national")
    c.login_page("admin")
    page = c.get("/admin")
    assert 'href="/admin/tenants"' in page.text
    listing = c.get("/admin/tenants")
    assert listing.status_code == 200
    assert "Hải Phòng" in listing.text and "Cổng mới" in listing.text
    assert "http://haiphong.localhost:8000" in listing.text

    r = c.submit(
        "/admin/tenants", data={"slug": "hagiang", "display_name": "Hà Giang", "self_registration": "1"}
    )
    assert r.status_code == 303 and r.headers["location"] == "/admin/tenants?created=hagiang"
    done = c.get(r.headers["location"])
    assert "Đã tạo cổng Hà Giang." in done.text
    # The new portal answers at once on its own address.
    assert make_client("hagiang").get("/").status_code == 200
    with cross_tenant(db):
        actions = db.scalars(select(AuditEvent.target).where(AuditEvent.action == "national.tenant_created"))
        assert "tenant:hagiang" in list(actions)


def test_a_bad_or_taken_address_is_explained_and_kept_in_the_form(
    world: factories.World, make_client: Callable[..., Browser]
) -> None:
    c = make_client("national")
    c.login_page("admin")
    bad = c.submit("/admin/tenants", data={"slug": "Hà Giang", "display_name": "Hà Giang"})
    assert bad.status_code == 422
    assert "chữ thường" in bad.text.lower() and 'value="Hà Giang"' in bad.text
    taken = c.submit("/admin/tenants", data={"slug": "haiphong", "display_name": "Hải Phòng 2"})
    assert taken.status_code == 409 and 'value="Hải Phòng 2"' in taken.text


def test_only_the_national_admin_on_the_national_portal_manages_portals(
    world: factories.World, make_client: Callable[..., Browser]
) -> None:
    province = make_client("haiphong")
    province.login_page("admin")
    assert province.get("/admin/tenants").status_code == 403
    assert 'href="/admin/tenants"' not in province.get("/admin").text
    trainer = make_client("national")
    trainer.login_page("trainer")
    assert trainer.get("/admin/tenants").status_code == 403
    # Without the form's CSRF token nothing is created.
    admin = make_client("national")
    admin.login_page("admin")
    r = admin.post("/admin/tenants", data={"slug": "hagiang", "display_name": "Hà Giang"})
    assert r.status_code == 403
    assert make_client("hagiang").get("/").status_code == 404
