"""The national admin manages portals; nobody else can."""

from __future__ import annotations


def test_national_admin_creates_and_lists_tenants(world, make_client) -> None:
    national = make_client("national")
    national.login_api("admin")
    r = national.api("POST", "/api/v1/tenants", json={"slug": "danang", "display_name": "Đà Nẵng"})
    assert r.status_code == 201, r.text
    listed = national.api("GET", "/api/v1/tenants").json()
    assert "danang" in [t["slug"] for t in listed["items"]]
    assert listed["total"] == 4
    assert make_client("danang").get("/").status_code == 200
    r = national.api("POST", "/api/v1/tenants", json={"slug": "danang", "display_name": "Again"})
    assert r.status_code == 409
    r = national.api("POST", "/api/v1/tenants", json={"slug": "Bad Slug!", "display_name": "x"})
    assert r.status_code == 422
    r = national.api("PATCH", "/api/v1/tenants/danang", json={"is_active": False})
    assert r.status_code == 200
    assert make_client("danang").get("/").status_code == 404


def test_province_admin_cannot_manage_tenants(world, make_client) -> None:
    admin = make_client("haiphong")
    admin.login_api("admin")
    assert admin.api("GET", "/api/v1/tenants").status_code == 403
    assert admin.api("POST", "/api/v1/tenants", json={"slug": "x1", "display_name": "x"}).status_code == 403
